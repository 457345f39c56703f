"""The explain HTML in a real browser: headless Chromium lays out the MathML and the tables.

Chromium renders MathML natively, so this checks what a reader sees: fractions stacked
(the numerator above the denominator), subscripts below the baseline, matrices as
grids of cells, every section heading in order, and the page decoded as UTF-8.
"""

import os
import shutil

import pytest

from soma.explain.examples import explain_example

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install chromium (CI installs it)")

LAYOUT = """() => {
  const box = e => e.getBoundingClientRect();
  const frac = document.querySelector('mfrac');
  const sub = document.querySelector('msub');
  const matrix = document.querySelector('table.soma-matrix');
  const pair = e => e ? [box(e.children[0]), box(e.children[1]), box(e)] : null;
  const [f, s] = [pair(frac), pair(sub)];
  return {
    title: document.title,
    charset: document.characterSet,
    h3: [...document.querySelectorAll('h3')].map(h => h.textContent),
    maths: document.querySelectorAll('math').length,
    stacked: f ? f[1].top >= f[0].bottom - 1 && f[2].height > 1.5 * f[0].height : null,
    lowered: s ? s[1].bottom > s[0].bottom : null,
    matrixRows: matrix ? matrix.rows.length : 0,
    matrixCellWidth: matrix ? box(matrix.rows[0].cells[0]).width : 0,
  };
}"""


@pytest.fixture(scope="module")
def page():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser.new_page(viewport={"width": 1200, "height": 900})
        browser.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["backprop-222", "conv-vertical-edge"])
def test_report_renders_math_and_tables(page, tmp_path, name):
    report = explain_example(name)
    path = report.save(tmp_path / f"{name}.html")
    page.goto(f"file://{path}")
    layout = page.evaluate(LAYOUT)
    assert layout["title"] == report.title and layout["charset"] == "UTF-8"
    assert layout["h3"] == [s.heading for s in report.sections]
    assert layout["maths"] >= sum(1 for s in report.sections for i in s.items if hasattr(i, "lhs"))
    if name == "backprop-222":
        assert layout["lowered"]  # w5, net_h1: subscripts sit below the baseline
        assert layout["stacked"]  # ∂E/∂w5 is a fraction: the numerator above the denominator
    else:
        assert layout["matrixRows"] == 5 and layout["matrixCellWidth"] > 0  # the 5×5 input, cell by cell
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    if os.environ.get("SOMA_SCREENSHOTS"):  # to look at: SOMA_SCREENSHOTS=folder pytest ...
        shutil.copy(tmp_path / f"{name}.png", os.environ["SOMA_SCREENSHOTS"])

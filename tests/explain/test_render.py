"""Report rendering: HTML (MathML, tables, order, charset), Jupyter display, text wrapping."""

import io
import re
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

from soma import explain, nn
from soma.explain.examples import explain_example
from soma.explain.render_html import mathml

X, T, LR = [0.05, 0.10], [0.01, 0.99], 0.5


class Outline(HTMLParser):
    """The sequence of start tags and the text of each <h3>/<h4>, to check structure and order."""

    def __init__(self):
        super().__init__()
        self.tags, self.headings, self._heading = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h3", "h4"):
            self._heading = [tag, ""]

    def handle_endtag(self, tag):
        if self._heading and tag == self._heading[0]:
            self.headings.append(tuple(self._heading))
            self._heading = None

    def handle_data(self, data):
        if self._heading:
            self._heading[1] += data


def outline(text):
    parser = Outline()
    parser.feed(text)
    return parser


def test_html_is_a_utf8_page_with_mathml(mazur):
    page = explain.step(mazur, X, T, nn.MSELoss(), lr=LR).to_html()
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<math" in page and "<mfrac>" in page and "<msub>" in page
    # dE/dw5 as ∂E/∂w5: a fraction whose denominator is w with subscript 5
    assert "<mfrac><mrow><mi>∂</mi><mi>E</mi></mrow><mrow><mi>∂</mi><msub><mi>w</mi><mn>5</mn></msub>" in page
    assert "<code>" not in page  # no equation left as flat text


def test_each_layer_header_is_followed_by_its_own_equations(mazur):
    """The bug this fixes: every 'Layer' header first, then all equations of the section in one list."""
    page = explain.step(mazur, X, T, nn.MSELoss(), lr=LR).to_html()
    forward = page[page.index("<h3>Forward pass") : page.index("<h3>Loss")]
    first, second = forward.index("<h4>Layer 0"), forward.index("<h4>Layer 2")
    assert "net<" not in forward[:first]
    between = forward[first:second]
    assert between.count("<tr>") == 4 and "<mi>h1</mi>" in between and "<mi>o1</mi>" not in between
    assert "<mi>o1</mi>" in forward[second:]


def test_headings_follow_the_sections_in_order(mazur):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    h3 = [text for tag, text in outline(report.to_html()).headings if tag == "h3"]
    assert h3 == [s.heading for s in report.sections]


def test_a_feature_map_is_an_html_table():
    report = explain_example("conv-vertical-edge")
    page = report.to_html()
    tables = re.findall(r'<table class="soma-matrix">(.*?)</table>', page)


    def cells(table):
        return [[float(v) for v in re.findall(r"<td>([^<]*)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", table)]

    assert len(tables) == 4  # input, kernel, the whole map, and relu(out) as an equation's value
    np.testing.assert_array_equal(cells(tables[2]), report.values["out"])
    np.testing.assert_array_equal(cells(tables[3]), report.values["relu(out)"])


def test_negative_numbers_and_primes_in_mathml():
    assert mathml("w5' = 0.5 × (-0.25)") == (
        "<math><msub><mi>w</mi><mn>5</mn></msub><mo>′</mo><mo>=</mo><mn>0.5</mn><mo>×</mo>"
        "<mo>(</mo><mn>−0.25</mn><mo>)</mo></math>"
    )
    assert "<msup>" in mathml("e^z_k") and "<msup>" in mathml("(out_o1 − t_o1)²")


def test_jupyter_gets_a_fragment_and_markdown(mazur):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    fragment = report._repr_html_()
    assert "<!DOCTYPE" not in fragment and '<div class="soma-report">' in fragment and "<style>" in fragment
    assert fragment.split("</style>", 1)[1].strip() in report.to_html()
    assert report._repr_markdown_() == report.to_markdown()


def test_markdown_and_latex_write_matrices_as_bmatrix():
    report = explain_example("conv-binary")
    assert r"\begin{bmatrix} 4 & 3 & 4 \\ 2 & 4 & 3 \\ 2 & 3 & 4 \end{bmatrix}" in report.to_markdown()
    assert r"\begin{bmatrix}" in report.to_latex()


def test_save_picks_the_format_by_extension(tmp_path, mazur):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    for suffix, marker in ((".html", "<!DOCTYPE html>"), (".md", "## "), (".tex", r"\section*"), (".txt", "=====")):
        path = tmp_path / f"report{suffix}"
        report.save(path)
        assert marker in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("width", [60, 80, 100])
def test_text_wraps_to_the_width(mazur, width):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    text = report.to_text(width=width)
    structural = [line for line in text.splitlines() if not line.startswith(("Model:", "    (", "  )"))]
    assert max(len(line) for line in structural) <= width
    # a long equation (99 characters) continues below its first '=' with the numbers
    if width < 99:
        assert "  dE/dw5 = dE/dout_o1 · dout_o1/dnet_o1 · dnet_o1/dw5\n" in text
        assert re.search(r"\n {9}= 0\.741365 × 0\.186816 × 0\.593270", text)
    # nothing is lost: the wrapped text holds the same words as the unwrapped one
    assert text.split() == report.to_text(width=0).split()


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_text_width_follows_the_terminal(mazur, monkeypatch):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    monkeypatch.setenv("COLUMNS", "70")  # what shutil.get_terminal_size reads first
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert max(len(line) for line in str(report).splitlines() if not line.startswith("    (")) <= 70
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a pipe or a file: no wrapping, whatever COLUMNS says
    assert "dnet_o1/dw5 = 0.741365" in str(report)


def test_a_long_equation_continues_on_rows_below_its_first_equals():
    page = explain_example("conv-vertical-edge").to_html()
    section = page[page.index("<h3>out[0, 1]") : page.index("</section>", page.index("<h3>out[0, 1]"))]
    rows = re.findall(r"<tr>(.*?)</tr>", section)
    assert len(rows) >= 3  # Σ W·x, then the nine products over two rows, ending with the value
    assert "<math>" in rows[0].split("</td>")[0] and all(row.startswith('<td class="soma-lhs"></td>') for row in rows[1:])
    numbers = [float(v.replace("−", "-")) for v in re.findall(r"<mn>([^<]*)</mn>", "".join(rows[1:]))]
    assert numbers[:2] == [1, 2] and numbers[-1] == 12 and len(numbers) == 9 * 2 + 1

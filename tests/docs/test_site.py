"""The documentation site: its pages, its code blocks (run when the site is built), the strict build."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"


def _hook():
    spec = importlib.util.spec_from_file_location("run_code", DOCS / "hooks" / "run_code.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nav_pages(entries):
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from _nav_pages(value)
        else:
            yield value


def test_every_page_of_the_nav_exists_and_every_chapter_is_in_it():
    yaml = pytest.importorskip("yaml", reason="the docs extra installs PyYAML with MkDocs")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = list(_nav_pages(config["nav"]))
    assert all((DOCS / page).is_file() for page in pages), [p for p in pages if not (DOCS / p).is_file()]
    chapters = {str(p.relative_to(DOCS)) for p in (DOCS / "chapters").glob("*.md")}
    assert chapters <= set(pages) and len(chapters) >= 11
    assert config["strict"] is True and config["theme"]["font"] is False  # offline: no web fonts


def test_blocks_run_in_order_and_their_output_is_shown():
    run_blocks = _hook().run_blocks
    page = (
        "# A page\n\n```python\nx = 6 * 7\n```\n\ntext\n\n```python\nprint(x)\n```\n\n"
        "```python\n# no-run\nimport not_a_module\n```\n"
    )
    built = run_blocks(page, "page.md")
    assert "```python\nprint(x)\n```\n\n```text\n42\n```" in built
    assert "import not_a_module" in built and "# no-run" not in built


def test_show_embeds_a_report_as_html_with_mathml():
    built = _hook().run_blocks(
        "```python\nfrom soma.explain.examples import explain_example\nshow(explain_example('relu-exam'))\n```\n",
        "page.md",
    )
    assert '<div class="soma-output">' in built and "<math>" in built
    html = built.split('<div class="soma-output">', 1)[1]
    assert "\n\n" not in html.split("</div>\n\n", 1)[0]  # no blank line: Markdown keeps it one raw block


def test_a_failing_block_names_the_page_and_the_block():
    hook = _hook()
    with pytest.raises(hook.CodeBlockError, match=r"chapters/x\.md: code block 2 raised ZeroDivisionError"):
        hook.run_blocks("```python\na = 1\n```\n\n```python\na / 0\n```\n", "chapters/x.md")


@pytest.mark.slow
def test_the_site_builds_in_strict_mode(tmp_path):
    """``make docs``: every page rendered, every code block run, the API from the docstrings."""
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("the docs extra (mkdocs, mkdocs-material, mkdocstrings) is not installed")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    backprop = (site / "chapters" / "mlp-backprop" / "index.html").read_text(encoding="utf-8")
    assert "<math>" in backprop and "0.298371109" in backprop  # a report, and a block's printed output
    api = (site / "api" / "explain" / "index.html").read_text(encoding="utf-8")
    assert "Explain one SGD step of" in api  # soma.explain.step's docstring
    assert not list(site.rglob("*.py"))  # the scripts in docs/ are not published


def test_links_out_of_docs_become_repository_paths():
    rewrite = _hook().repository_paths
    page = "[`examples/a.py`](../examples/a.py), [the API](api/index.md), [up](../index.md)"
    assert rewrite(page, "x.md", str(DOCS)) == "`examples/a.py`, [the API](api/index.md), up (`index.md`)"
    assert rewrite("[up](../index.md)", "chapters/y.md", str(DOCS)) == "[up](../index.md)"  # still inside docs/
    assert rewrite("[a script](../../examples/b.py)", "chapters/y.md", str(DOCS)) == "a script (`examples/b.py`)"

"""The chapter notebooks: stored without outputs, with exercises, and run top to bottom by nbclient."""

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
nbformat = pytest.importorskip("nbformat", reason="the notebooks extra installs nbformat, nbclient, ipykernel")


def _read(path):
    return nbformat.read(path, as_version=4)


def test_one_notebook_per_chapter_listed_on_the_site():
    assert len(NOTEBOOKS) >= 10
    listed = (ROOT / "docs" / "notebooks.md").read_text(encoding="utf-8")
    assert all(f"`{path.name}`" in listed for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs_and_ends_with_exercises_with_hidden_answers(path):
    notebook = _read(path)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    answers = [text for text in markdown if "<details>" in text and "<summary>Answer</summary>" in text]
    assert len(answers) >= 2 and "## Exercises" in "\n".join(markdown)
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    nbclient = pytest.importorskip("nbclient")
    notebook = _read(path)
    nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert "Warning" not in stderr, stderr[-2000:]  # e.g. tqdm's "IProgress not found" without ipywidgets
    rich = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    kinds = {kind for o in rich for kind in o.data}
    assert kinds & {"image/png", "text/html", "image/svg+xml"}  # a plot, a report or a graph
    for output in rich:  # a report is shown once, as HTML with MathML (not its repr or raw Markdown)
        if "soma.explain.Report" in output.data.get("text/plain", ""):
            assert "<math>" in output.data["text/html"]

"""The README's Python examples run, in order, as a reader would paste them."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)  # the examples write checkpoints and model files
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "tensor(14., grad_fn=<SumBackward0>) tensor([2., 4., 6.])" in printed  # the five-line example
    assert "tensor([ 3., 12.], grad_fn=<MulBackward0>) tensor([ 6., 12.])" in printed  # the second derivative
    assert (tmp_path / "model.onnx").exists() and (tmp_path / "model.safetensors").exists()

"""The README's Layout section names every module and package at the top of src/soma (it must match the tree)."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _layout_block():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout", 1)[1]
    return re.search(r"```text\n(.*?)```", section, re.S).group(1)


def test_every_top_level_module_and_package_is_in_the_readme_layout():
    block = _layout_block()
    entries = [p for p in (ROOT / "src" / "soma").iterdir()
               if p.name not in ("__init__.py", "py.typed", "__pycache__") and (p.suffix == ".py" or p.is_dir())]
    assert entries
    missing = sorted(p.name for p in entries if re.search(rf"(?<![\w.]){re.escape(p.stem)}(\.py|/)", block) is None)
    assert not missing, f"README's Layout does not mention: {missing}"


def test_every_path_the_layout_names_exists():
    block = _layout_block()
    for path in re.findall(r"^(src/soma/\S+?|tests/|benchmarks/|tools/\S+|examples/|docs/\S*|notebooks/)[\s,]", block, re.M):
        assert (ROOT / path.rstrip(",")).exists(), path

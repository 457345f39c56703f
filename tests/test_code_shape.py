"""No function in src/ over 60 lines of code: a reader should see an algorithm's steps in its top function.

A function's length is ``end_lineno - lineno + 1`` minus its docstring (comments and blank lines count, as they
take the reader's screen too). Nested functions count inside their parent and on their own.
"""

import ast
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_CODE_LINES = 60

# Deliberate hot loops allowed to stay longer, "path:qualified name" -> why. Each such function also says why in a
# comment beside its loop. None is needed today: every long function was split into named steps.
ALLOWED: dict[str, str] = {}


def code_lines(node):
    """Lines of a function definition without its docstring."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def long_functions(tree, limit=MAX_CODE_LINES):
    """(qualified name, code lines) of every function in ``tree`` longer than ``limit``."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef) and code_lines(child) > limit:
                    found.append((name, code_lines(child)))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def test_no_function_in_src_is_over_60_lines_of_code():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 100  # the tree is where this test thinks it is
    found = {}
    for path in files:
        relative = path.relative_to(SRC).as_posix()
        for name, lines in long_functions(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            found[f"{relative}:{name}"] = lines
    offenders = [f"{where} has {lines} code lines" for where, lines in found.items() if where not in ALLOWED]
    assert not offenders, (f"functions over {MAX_CODE_LINES} lines of code (split them into named steps, or, for a "
                           "deliberate hot loop, add it to ALLOWED with the reason):\n" + "\n".join(offenders))
    stale = [where for where in ALLOWED if where not in found]
    assert not stale, f"no longer over {MAX_CODE_LINES} lines: remove from ALLOWED: {stale}"


@pytest.mark.parametrize("body_lines,docstring_lines,expected", [(59, 0, []), (60, 0, [("f", 61)]),
                                                                 (59, 5, []), (60, 3, [("f", 61)])])
def test_the_measure_counts_code_not_the_docstring(body_lines, docstring_lines, expected):  # the def line counts
    doc = ['    """' + "doc"] + ["    more"] * max(docstring_lines - 2, 0) + ['    """'] if docstring_lines else []
    source = "\n".join(["def f():", *doc, *["    x = 1"] * body_lines])
    assert long_functions(ast.parse(source)) == expected


def test_nested_functions_and_methods_are_named_and_measured():
    inner = "\n".join(["        y = 2"] * 61)
    source = textwrap.dedent("""
        class A:
            def method(self):
                def inner():
        {inner}
                return inner
    """).format(inner=textwrap.indent(inner, "    "))
    assert [name for name, _ in long_functions(ast.parse(source))] == ["A.method", "A.method.inner"]

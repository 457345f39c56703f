"""MkDocs hook: run every ```python block of a page when the site is built.

The blocks of one page run in order in one namespace (so a page reads like a notebook),
in a temporary working folder. What a block prints is shown right below it as a
```text block, and ``show(obj)`` puts a rich object on the page: an explain report as
HTML with MathML math, a graph as SVG, a matplotlib figure as an inline SVG. A block
that raises fails the build, so no example on the site can go stale.

A block whose first line is ``# no-run`` is shown, not run (a shell command, or code
that needs files the reader has and the build does not). A page listed under
``extra: code_blocks_not_run:`` in mkdocs.yml, with the reason, is shown as written (code
that needs several processes, whose own tests run it).

A link to a file of the repository outside docs/ (``[the example](../examples/x.py)``)
cannot be followed on the built site; it is written as the file's path instead.
"""

import contextlib
import io
import os
import re
import tempfile
import traceback

FENCE = re.compile(r"^```python\n(.*?)^```\n", re.S | re.M)
NO_RUN = "# no-run"


class CodeBlockError(Exception):
    """A code block of the site raised; the message names the page and the block."""


def _rich(obj):
    """The HTML to embed for ``obj``: SVG for graphs and figures, else its HTML or Markdown view."""
    if hasattr(obj, "savefig"):  # a matplotlib figure
        buffer = io.StringIO()
        obj.savefig(buffer, format="svg", bbox_inches="tight")
        svg = buffer.getvalue()
        return svg[svg.index("<svg") :]
    for method in ("_repr_svg_", "_repr_html_"):
        render = getattr(obj, method, None)
        text = render() if render else None
        if text:
            return text[text.index("<svg") :] if method == "_repr_svg_" else text
    return f"<pre>{obj!r}</pre>"


def run_blocks(markdown, name):
    """``markdown`` with each block's printed output (and ``show``n objects) written below it."""
    namespace = {"__name__": "__docs__"}
    shown = []
    namespace["show"] = lambda obj: shown.append(_rich(obj))
    pieces, position = [], 0
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            for number, match in enumerate(FENCE.finditer(markdown), start=1):
                code = match.group(1)
                pieces.append(markdown[position : match.end()])
                position = match.end()
                if code.startswith(NO_RUN):
                    pieces[-1] = pieces[-1].replace(NO_RUN + "\n", "", 1)
                    continue
                output = io.StringIO()
                try:
                    with contextlib.redirect_stdout(output):
                        exec(compile(code, f"{name}, block {number}", "exec"), namespace)
                except Exception as error:
                    raise CodeBlockError(
                        f"{name}: code block {number} raised {error!r}\n{traceback.format_exc()}"
                    ) from error
                if output.getvalue().strip():
                    pieces.append(f"\n```text\n{output.getvalue().rstrip()}\n```\n")
                for html in shown:  # raw HTML ends at a blank line in Markdown: keep none inside
                    html = "\n".join(line for line in html.splitlines() if line.strip())
                    pieces.append(f'\n<div class="soma-output">\n{html}\n</div>\n\n')
                shown.clear()
        finally:
            os.chdir(previous)
            _close_figures()
    pieces.append(markdown[position:])
    return "".join(pieces)


def _close_figures():
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


OUTSIDE_LINK = re.compile(r"\[([^\]]+)\]\((\.\./[^)\s#]+)\)")


def repository_paths(markdown, page_path, docs_dir):
    """``[text](../examples/x.py)`` → ``text (`examples/x.py`)`` for links that leave ``docs_dir``."""
    docs_dir = os.path.abspath(docs_dir)
    root = os.path.dirname(docs_dir)

    def replace(match):
        target = os.path.normpath(os.path.join(docs_dir, os.path.dirname(page_path), match.group(2)))
        if target.startswith(docs_dir + os.sep):
            return match.group(0)
        path = os.path.relpath(target, root)
        text = match.group(1)
        return text if text.strip("`") == path else f"{text} (`{path}`)"

    return OUTSIDE_LINK.sub(replace, markdown)


def on_page_markdown(markdown, page, config, files):
    os.environ.setdefault("MPLBACKEND", "Agg")
    markdown = repository_paths(markdown, page.file.src_uri, config["docs_dir"])
    if page.file.src_uri in (config["extra"].get("code_blocks_not_run") or {}):
        return markdown
    return run_blocks(markdown, page.file.src_uri)

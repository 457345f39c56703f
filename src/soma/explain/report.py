"""``Report``: a derivation written line by line, rendered as text, Markdown, LaTeX or HTML.

A report is a title, a list of sections, and in each section a list of items: a
paragraph of prose or an :class:`Equation`. An equation is written the way the
notes write one by hand::

    dE/dw5 = dE/dout_o1 · dout_o1/dnet_o1 · dnet_o1/dw5 = 0.741365 × 0.186816 × 0.593270 = 0.0821670
    ^lhs     ^formula (symbols)                          ^numbers (a template)        ^value

The numbers are kept as floats and formatted only when the report is rendered, so
one report can be shown at any number of significant digits. ``report.values`` maps
every named quantity (the left-hand sides) to the exact float or array that soma's
autograd computed.
"""

import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Report", "Section", "Equation", "Matrix", "Subheading", "format_number", "grid", "to_latex"]


def format_number(value, digits=6):
    """``value`` to ``digits`` significant digits; a number that is exact in fewer digits stays short.

    >>> format_number(0.593269992107), format_number(0.05), format_number(2.0), format_number(1769472.0)
    ('0.593270', '0.05', '2', '1769472')
    """
    value = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0
    if not np.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # counts and sizes in full: 50000, 1769472 (not 1.76947e+06)
    short = f"{value:.{digits}g}"
    exact = float(short) == value or np.float32(short) == np.float32(value) == value
    if exact and len(short.lstrip("-0.").replace(".", "").split("e")[0]) < digits - 1:
        return short  # an input such as 0.05 or 2 is shown as written, not as 0.0500000
    return f"{value:#.{digits}g}".rstrip(".")


def _format_array(array, digits):
    array = np.asarray(array)
    if array.size > 16:
        return (
            f"array{tuple(array.shape)} mean {format_number(array.mean(), digits)}, "
            f"min {format_number(array.min(), digits)}, max {format_number(array.max(), digits)}"
        )
    if array.ndim == 0:
        return format_number(array, digits)
    if array.ndim == 1:
        return "[" + ", ".join(format_number(v, digits) for v in array) + "]"
    return "[" + ", ".join(_format_array(row, digits) for row in array) + "]"


def format_value(value, digits=6):
    """Floats, NumPy scalars and arrays (small ones in full, big ones summarized), or text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return _format_array(value, digits)
    return format_number(value, digits)


def terminal_width():
    """The width to wrap text to: the terminal's (``shutil.get_terminal_size``, which honours
    ``COLUMNS``) when standard output is a terminal, else 0: no wrapping in a file or a pipe."""
    stream = sys.stdout
    if hasattr(stream, "isatty") and stream.isatty():
        return max(shutil.get_terminal_size().columns - 1, 40)
    return 0


def wrap_paragraph(text, width, indent=""):
    """A paragraph wrapped to ``width`` (0: as is); multi-line text (a grid, a model) stays as written."""
    if width <= 0 or "\n" in text or len(indent + text) <= width:
        return [indent + text]
    lead = indent + " " * (len(text) - len(text.lstrip(" ")))
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=lead + "  ", break_on_hyphens=False)


def wrap_equation(parts, note, width, indent="  "):
    """``lhs = a = b = value`` on one line, or, when longer than ``width``, continued on the next
    lines below the first ``=``::

        dE/dw5 = dE/dout_o1 · dout_o1/dnet_o1 · dnet_o1/dw5
               = 0.741365 × 0.186816 × 0.593270 = 0.0821670
    """
    note = f"   ({note})" if note else ""
    line = indent + " = ".join(parts) + note
    if width <= 0 or len(line) <= width:
        return [line]
    pad = indent + " " * len(parts[0]) + " "
    lines, current = [], indent + parts[0]
    for position, part in enumerate(parts[1:]):
        piece = " = " + part
        if position == 0 or (position > 1 and len(current) + len(piece) <= width):
            current += piece  # the formula stays beside its name; the numbers start the next line
        else:
            lines.append(current)
            current = pad + "=" + " " + part
    lines.append(current)
    wrapped = []
    for text in lines:  # a part longer than the whole width breaks at its spaces
        inner = " " * (len(text) - len(text.lstrip(" ")))
        wrapped += textwrap.wrap(text, width, subsequent_indent=inner + "    ", break_on_hyphens=False) or [text]
    if note:
        wrapped += wrap_paragraph(note.strip(), width, pad)
    return wrapped


_DOUBLE_PARENTHESES = re.compile(r"\(\((-[^()]+)\)\)")


def _number_in_template(value, digits):
    text = format_value(value, digits)
    return f"({text})" if text.startswith("-") else text


@dataclass
class Equation:
    """One written step: ``lhs = formula = numbers = value`` (any of the middle parts may be missing).

    ``numbers`` is a template with ``{}`` where each of ``numbers_values`` goes; negative
    numbers are put in parentheses, as one writes ``0.5 × (-0.038)``.
    """

    lhs: str
    value: object = None
    formula: str | None = None
    numbers: str | None = None
    numbers_values: tuple = ()
    note: str | None = None

    def parts(self, digits):
        parts = [self.lhs]
        if self.formula:
            parts.append(self.formula)
        if self.numbers:
            written = self.numbers.format(
                *(_number_in_template(v, digits) for v in self.numbers_values)
            )
            parts.append(_DOUBLE_PARENTHESES.sub(r"(\1)", written))  # σ((-1.5)) → σ(-1.5)
        if self.value is not None:
            parts.append(format_value(self.value, digits))
        return parts

    def text(self, digits):
        line = " = ".join(self.parts(digits))
        return f"{line}   ({self.note})" if self.note else line


class Subheading(str):
    """A line that heads a group of equations inside a section ("Layer 0: Linear(...)")."""


@dataclass
class Matrix:
    """A 2-D array shown as a grid (text), a table (HTML) or a ``bmatrix`` (LaTeX, Markdown)."""

    label: str | None
    array: object

    def text(self, digits):
        body = grid(self.array, digits)
        return f"{self.label}:\n{body}" if self.label else body


def grid(array, digits=6):
    """A 2-D array as a right-aligned block of text, one row per line, the way the notes print a map.

    >>> print(grid([[1, -6], [12, 8]]))
      1  -6
     12   8
    """
    cells = [[format_number(v, digits) for v in row] for row in np.atleast_2d(np.asarray(array, dtype=np.float64))]
    width = max(len(cell) for row in cells for cell in row)
    return "\n".join(" ".join(cell.rjust(width + 1) for cell in row) for row in cells)


@dataclass
class Section:
    heading: str
    items: list = field(default_factory=list)

    def add(self, item):
        self.items.append(item)
        return item


class Report:
    """A step-by-step derivation. ``str(report)`` is plain text; see also ``to_markdown``,
    ``to_latex``, ``to_html``; ``report.values`` holds every named quantity.

    Args:
        title: the first line.
        digits: significant digits used when rendering (default 6).
    """

    def __init__(self, title, digits=6):
        self.title = title
        self.digits = digits
        self.sections = []
        self.values = {}

    # ------------------------------------------------------------------ building
    def section(self, heading):
        section = Section(heading)
        self.sections.append(section)
        return section

    def equation(self, section, lhs, value=None, record=True, **parts):
        """Add ``lhs = ... = value`` to ``section`` and (unless ``record=False``) to ``values``."""
        if record and value is not None:
            self.values[lhs] = value
        return section.add(Equation(lhs, value, **parts))

    def text(self, section, paragraph):
        return section.add(str(paragraph))

    def subheading(self, section, text):
        """A heading inside ``section`` for the equations that follow it (one per layer)."""
        return section.add(Subheading(text))

    def matrix(self, section, label, array, name=None):
        """A 2-D array as a grid; ``name`` also records it in ``values``."""
        if name is not None:
            self.values[name] = np.asarray(array)
        return section.add(Matrix(label, np.asarray(array)))

    def extend(self, other, prefix=""):
        """Append the sections and values of another report (one step of a multi-step example).

        ``prefix`` goes before each heading and each value name ("sample 2: w1'").
        """
        self.sections.extend(Section(prefix + s.heading, s.items) for s in other.sections)
        self.values.update({prefix + name: value for name, value in other.values.items()})
        return self

    # ----------------------------------------------------------------- rendering
    def _digits(self, digits):
        return self.digits if digits is None else digits

    def to_text(self, digits=None, width=None):
        """Plain text. ``width`` wraps prose and long equations (an equation breaks before one of
        its ``=``, the way one continues a derivation on the next line); the default is the
        terminal's width when printing to a terminal (``shutil.get_terminal_size``) and no
        wrapping when the output goes to a file or a pipe."""
        digits = self._digits(digits)
        width = terminal_width() if width is None else width
        lines = [self.title, "=" * len(self.title)]
        for section in self.sections:
            lines += ["", section.heading, "-" * len(section.heading)]
            for item in section.items:
                if isinstance(item, Equation):
                    lines += wrap_equation(item.parts(digits), item.note, width)
                elif isinstance(item, Matrix):
                    lines.append(item.text(digits))
                else:
                    lines += wrap_paragraph(item, width)
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return f"<soma.explain.Report {self.title!r}: {len(self.sections)} sections, {len(self.values)} values>"

    def to_markdown(self, digits=None):
        """Markdown with each equation as inline LaTeX math (renders in Jupyter and on GitHub)."""
        digits = self._digits(digits)
        lines = [f"## {self.title}"]
        for section in self.sections:
            lines += ["", f"### {section.heading}", ""]
            for item in section.items:
                if isinstance(item, Matrix):
                    label = f"{item.label}:" if item.label else ""
                    lines += ["", label, "", f"$$ {_bmatrix(item.array, digits)} $$", ""]
                elif isinstance(item, Subheading):
                    lines += ["", f"**{item}**", ""]
                elif isinstance(item, str):
                    lines += ["", f"```\n{item}\n```" if "\n" in item else item, ""]
                else:
                    note = f" ({item.note})" if item.note else ""
                    lines.append(f"- ${_latex_equation(item, digits)}${note}")
        return "\n".join(lines) + "\n"

    def to_latex(self, digits=None):
        """A LaTeX fragment: one ``align*`` block per section (needs ``amsmath``)."""
        digits = self._digits(digits)
        lines = [f"\\section*{{{_latex_text(self.title)}}}"]
        for section in self.sections:
            lines.append(f"\\subsection*{{{_latex_text(section.heading)}}}")
            block = []
            for item in section.items:
                if isinstance(item, Matrix):
                    if block:
                        lines += _align(block)
                        block = []
                    label = f"{_latex_text(item.label)}:\n" if item.label else ""
                    lines.append(f"{label}\\[ {_bmatrix(item.array, digits)} \\]\n")
                elif isinstance(item, str):
                    if block:
                        lines += _align(block)
                        block = []
                    text = (
                        f"\\begin{{verbatim}}\n{item}\n\\end{{verbatim}}"
                        if "\n" in item
                        else _latex_text(item)
                    )
                    lines.append(text + "\n")
                else:
                    block.append(_latex_equation(item, digits, aligned=True))
            if block:
                lines += _align(block)
        return "\n".join(lines) + "\n"

    def to_html(self, digits=None, standalone=True):
        """HTML with the math as MathML (browsers render it natively, offline) and arrays as tables.

        ``standalone=True`` gives a whole UTF-8 page (``<!DOCTYPE html>``, charset, styles);
        ``False`` a fragment for embedding (what Jupyter displays).
        """
        from soma.explain.render_html import report_html

        return report_html(self, self._digits(digits), standalone)

    def save(self, path, digits=None):
        """Write the report to ``path``: ``.html``, ``.md``, ``.tex`` or plain text, by its extension."""
        path = str(path)
        kind = path.rsplit(".", 1)[-1].lower()
        render = {"html": self.to_html, "htm": self.to_html, "md": self.to_markdown, "tex": self.to_latex}
        text = render.get(kind, lambda d: self.to_text(d, width=0))(digits)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def _repr_markdown_(self):
        return self.to_markdown()

    def _repr_html_(self):
        return self.to_html(standalone=False)


# ---------------------------------------------------------------------- LaTeX
_DERIVATIVE = re.compile(r"\bd([A-Za-zδ][\w]*'?)/d([A-Za-zδ][\w]*'?)")
_NAME = re.compile(r"\b(net|out|in|E|δ|w|b|x|t|h|o|a|p|z|y)_?([0-9][\w]*|[a-z][0-9][\w]*)('?)")
_SYMBOLS = {
    "·": r" \cdot ",
    "×": r" \times ",
    "−": "-",
    "σ": r"\sigma",
    "Σ": r"\sum",
    "η": r"\eta",
    "²": "^{2}",
    "½": r"\tfrac{1}{2}",
    "≥": r"\geq ",
    "≤": r"\leq ",
    "→": r"\to ",
    "δ": r"\delta ",
    "θ": r"\theta ",
    "|": r"\lvert ",
    "√": r"\sqrt",
    "ŷ": r"\hat{y}",
}


def _latex_name(match):
    stem, sub, prime = match.groups()
    stem = {
        "net": r"\mathrm{net}",
        "out": r"\mathrm{out}",
        "in": r"\mathrm{in}",
        "δ": r"\delta",
    }.get(stem, stem)
    return f"{stem}_{{{sub}}}{prime}"


def to_latex(expression):
    """Translate the plain-text notation of a report (``dE/dw5``, ``net_h1``, ``σ``, ``·``) to LaTeX."""
    expression = _DERIVATIVE.sub(
        lambda m: f"\\frac{{\\partial {m.group(1)}}}{{\\partial {m.group(2)}}}", expression
    )
    expression = _NAME.sub(_latex_name, expression)
    return "".join(_SYMBOLS.get(ch, ch) for ch in expression)


def _latex_equation(item, digits, aligned=False):
    parts = [to_latex(part) for part in item.parts(digits)]
    if aligned:
        return parts[0] + " &= " + " = ".join(parts[1:]) if len(parts) > 1 else parts[0]
    return " = ".join(parts)


def _latex_text(text):
    for ch, escaped in (
        ("\\", r"\textbackslash{}"),
        ("_", r"\_"),
        ("%", r"\%"),
        ("&", r"\&"),
        ("#", r"\#"),
        ("$", r"\$"),
    ):
        text = text.replace(ch, escaped)
    return "".join(
        f"${_SYMBOLS[ch].strip()}$" if ch in _SYMBOLS and ord(ch) > 127 else ch for ch in text
    )


def _bmatrix(array, digits):
    rows = np.atleast_2d(np.asarray(array, dtype=np.float64))
    body = r" \\ ".join(" & ".join(format_number(v, digits) for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _align(block):
    return ["\\begin{align*}", " \\\\\n".join(block), "\\end{align*}"]

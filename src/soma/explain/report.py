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

import html
import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Report", "Section", "Equation", "format_number", "to_latex"]


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

    def to_text(self, digits=None):
        digits = self._digits(digits)
        lines = [self.title, "=" * len(self.title)]
        for section in self.sections:
            lines += ["", section.heading, "-" * len(section.heading)]
            for item in section.items:
                lines.append(item if isinstance(item, str) else "  " + item.text(digits))
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
                if isinstance(item, str):
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
                if isinstance(item, str):
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

    def to_html(self, digits=None):
        digits = self._digits(digits)
        out = [f"<h2>{html.escape(self.title)}</h2>"]
        for section in self.sections:
            out.append(f"<h3>{html.escape(section.heading)}</h3>")
            rows = []
            for item in section.items:
                if isinstance(item, str):
                    out.append(f"<p>{html.escape(item)}</p>")
                else:
                    rows.append(f"<li><code>{html.escape(item.text(digits))}</code></li>")
            if rows:
                out.append("<ul>" + "".join(rows) + "</ul>")
        return "\n".join(out)

    def _repr_markdown_(self):
        return self.to_markdown()

    def _repr_html_(self):
        return self.to_html()


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


def _align(block):
    return ["\\begin{align*}", " \\\\\n".join(block), "\\end{align*}"]

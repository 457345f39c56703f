"""A :class:`~soma.explain.report.Report` as HTML: math as MathML, arrays as tables.

Browsers render MathML natively (Chromium, Firefox, Safari), so a saved report or a
notebook cell shows real fractions and subscripts with nothing to download and
nothing shipped: it works offline. Each section is a heading followed by its items in
order (a paragraph, a sub-heading per layer, a table of equations aligned on their
first ``=``, a matrix), the order the text report has.

The plain-text notation of a report (``dE/dw5``, ``net_h1``, ``σ(net_h1)``, ``w5'``)
is translated token by token (:func:`mathml`): ``dA/dB`` becomes ∂A/∂B as a fraction,
``net_h1`` becomes net with subscript h1, ``w5`` becomes w with subscript 5, numbers
become ``<mn>``, and ``e^z_k`` and ``x²`` become superscripts.
"""

import html
import re

import numpy as np

from soma.explain.report import Equation, Matrix, Subheading, format_number

__all__ = ["report_html", "mathml", "matrix_table", "STYLE"]

STYLE = """
.soma-report { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.45;
  max-width: 72rem; }
.soma-report h2 { font-size: 1.35em; border-bottom: 2px solid #4a6fa5; padding-bottom: .2em; }
.soma-report h3 { font-size: 1.12em; margin: 1.3em 0 .4em; color: #24467a; }
.soma-report h4 { font-size: 1em; margin: .9em 0 .3em; font-weight: 600; }
.soma-report p { margin: .35em 0; }
.soma-report pre { background: rgba(127, 127, 127, .1); padding: .4em .6em; overflow-x: auto; }
.soma-report table.soma-equations { border-collapse: collapse; margin: .3em 0 .6em; }
.soma-report table.soma-equations td { padding: .18em .35em; vertical-align: middle; }
.soma-report td.soma-lhs { text-align: right; white-space: nowrap; }
.soma-report td.soma-note { opacity: .75; font-size: .9em; }
.soma-report math { font-size: 1.08em; math-style: normal; }
.soma-report table.soma-matrix { border-collapse: collapse; display: inline-table; vertical-align: middle;
  border-left: 2px solid currentColor; border-right: 2px solid currentColor; margin: .2em .3em; }
.soma-report table.soma-matrix td { padding: .1em .45em; text-align: right; font-variant-numeric: tabular-nums; }
.soma-report figure { margin: .4em 0 .8em; }
.soma-report figcaption { font-size: .92em; margin-bottom: .2em; }
"""

# ----------------------------------------------------------------- MathML
_TOKEN = re.compile(
    r"(?P<derivative>\bd(?P<top>[A-Za-zδ][\w.\[\], ]*?'?)/d(?P<bottom>[A-Za-zδ][\w.]*(?:\[[\d, ]+\])?'?))(?![\w.])"
    r"|(?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
    r"|(?P<name>[A-Za-zα-ωΑ-Ωŷ][\w]*'?|∂)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)"
)
_OPERATORS = {"·": "·", "×": "×", "−": "−", "-": "−", "+": "+", "=": "=", "/": "/"}
_OPENERS = {"<mo>(</mo>", "<mo>=</mo>", "<mo>[</mo>", "<mo>,</mo>"}
_WORDS = {"max", "min", "tanh", "step", "sign", "ln", "exp", "mean", "std", "if", "else", "of", "sum", "window"}
_SUBSCRIPTED = re.compile(r"^(net|out|in|E|δ|w|b|x|t|h|o|a|p|z|y|e|c|W|L)_?([0-9][\w]*|[a-z][0-9][\w]*)$")


def _esc(text):
    return html.escape(text, quote=False)


def _identifier(name):
    prime = "′" if name.endswith("'") else ""
    name = name.rstrip("'")
    if "_" in name and not name.startswith("_"):
        stem, sub = name.split("_", 1)
    else:
        match = _SUBSCRIPTED.match(name)
        stem, sub = match.groups() if match else (name, "")
    if name in _WORDS or not sub:
        body = f"<mi>{_esc(stem)}</mi>"
        variant = ' mathvariant="normal"' if len(stem) == 1 and stem in "σΣ" else ""
        body = body.replace("<mi>", f"<mi{variant}>", 1)
    else:
        tag = "mn" if sub.isdigit() else "mi"
        body = f"<msub><mi>{_esc(stem)}</mi><{tag}>{_esc(sub.replace('_', ','))}</{tag}></msub>"
    return body + (f"<mo>{prime}</mo>" if prime else "")


def _symbol(text):
    """One name or an indexed array (``out[0, 1]``, ``features.0.weight``) as MathML."""
    match = re.match(r"^(.*?)(\[[\d, ]+\])?('?)$", text)
    base, index, prime = match.groups()
    inner = "".join(_tokens(base)) if re.search(r"[^\w']", base) else _identifier(base)
    if index:
        inner += f"<mo>[</mo><mn>{_esc(index[1:-1])}</mn><mo>]</mo>"
    return inner + ("<mo>′</mo>" if prime else "")


def _tokens(text):
    out, sign = [], ""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group(kind) if kind != "derivative" else None
        if value == "-" and text[match.end() : match.end() + 1].isdigit() and (not out or out[-1] in _OPENERS):
            sign = "−"  # a negative number, not a subtraction: (-0.217) stays one <mn>
            continue
        if kind == "derivative":
            top, bottom = match.group("top"), match.group("bottom")
            out.append(
                f"<mfrac><mrow><mi>∂</mi>{_symbol(top)}</mrow><mrow><mi>∂</mi>{_symbol(bottom)}</mrow></mfrac>"
            )
        elif kind == "number":
            out.append(f"<mn>{sign}{value}</mn>")
            sign = ""
        elif kind == "name":
            out.append(_identifier(value))
        elif kind == "space":
            continue
        elif value == "²" and out:
            out.append(f"<msup><mrow>{out.pop()}</mrow><mn>2</mn></msup>")
        else:
            operator = _OPERATORS.get(value, value)
            out.append(f"<mo>{_esc(operator)}</mo>")
    return _superscripts(out)


def _superscripts(out):
    """``a ^ b`` (``e^z_k``, ``e^{x}``) as ``<msup>``: the element after ``^`` is the exponent."""
    result, index = [], 0
    while index < len(out):
        if out[index] == "<mo>^</mo>" and result and index + 1 < len(out):
            exponent, index = out[index + 1], index + 2
            if exponent == "<mo>{</mo>":
                depth, group = 1, []
                while index < len(out) and depth:
                    depth += {"<mo>{</mo>": 1, "<mo>}</mo>": -1}.get(out[index], 0)
                    if depth:
                        group.append(out[index])
                    index += 1
                exponent = "".join(group)
            result.append(f"<msup><mrow>{result.pop()}</mrow><mrow>{exponent}</mrow></msup>")
        else:
            result.append(out[index])
            index += 1
    return result


def mathml(expression, display=False):
    """The report notation ``expression`` as a ``<math>`` element.

    >>> mathml("w5")
    '<math><msub><mi>w</mi><mn>5</mn></msub></math>'
    """
    mode = ' display="block"' if display else ""
    return f"<math{mode}>{''.join(_tokens(expression))}</math>"


# ----------------------------------------------------------------- tables
def matrix_table(array, digits):
    """A 2-D array as an HTML ``<table class="soma-matrix">`` (1-D: one row)."""
    rows = np.atleast_2d(np.asarray(array, dtype=np.float64))
    body = "".join("<tr>" + "".join(f"<td>{format_number(v, digits)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="soma-matrix">{body}</table>'


def _is_matrix(value):
    return isinstance(value, np.ndarray) and value.ndim == 2 and value.size <= 64


LINE = 72  # characters of notation per row; longer equations continue on the next rows, below the '='


def _split_sum(part):
    """``part`` cut before each ``+`` that is outside parentheses, as rows of at most ``LINE`` characters."""
    if len(part) <= LINE:
        return [part]
    terms, depth, start = [], 0, 0
    for index, char in enumerate(part):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and part.startswith(" + ", index):
            terms.append(part[start:index])
            start = index + 3
    terms.append(part[start:])
    rows = [terms[0]]
    for term in terms[1:]:
        if len(rows[-1]) + 3 + len(term) > LINE:
            rows.append("+ " + term)
        else:
            rows[-1] += " + " + term
    return rows


def _equation_rows(item, digits):
    """``lhs = a = b = value`` as table rows: one, or (when long) one per part, each cut at its sums."""
    parts = item.parts(digits)
    matrix = _is_matrix(item.value)
    if matrix:
        parts = parts[:-1]
    if len(" = ".join(parts)) <= LINE * 1.4:
        lines = [" = ".join([""] + parts[1:]).strip()] if len(parts) > 1 else [""]
    else:
        lines = [
            f"= {piece}" if index == 0 else piece for part in parts[1:] for index, piece in enumerate(_split_sum(part))
        ]
        if len(lines) > 2 and len(lines[-2]) + 1 + len(lines[-1]) <= LINE:
            lines[-2:] = [f"{lines[-2]} {lines[-1]}"]  # the value beside the last numbers when it fits
    rows = []
    for number, line in enumerate(lines):
        last = number == len(lines) - 1
        lhs = f'<td class="soma-lhs">{mathml(parts[0])}</td>' if number == 0 else '<td class="soma-lhs"></td>'
        indent = '<mspace width="1em"></mspace>' if line.startswith("+") else ""  # a sum continued under its first term
        body = indent + "".join(_tokens(line)) + ("<mo>=</mo>" if matrix and last else "")
        right = f"<math>{body}</math>" + (matrix_table(item.value, digits) if matrix and last else "")
        note = f'<td class="soma-note">{_esc(item.note)}</td>' if item.note and last else "<td></td>"
        rows.append(f'<tr>{lhs}<td class="soma-rhs">{right}</td>{note}</tr>')
    return "".join(rows)


def _paragraph(item):
    if "\n" in item:
        return f"<pre>{_esc(item)}</pre>"
    return f"<p>{_esc(item.strip())}</p>"


def _section_html(section, digits):
    out, rows = [f"<section><h3>{_esc(section.heading)}</h3>"], []

    def flush():
        if rows:
            out.append('<table class="soma-equations">' + "".join(rows) + "</table>")
            rows.clear()

    for item in section.items:
        if isinstance(item, Equation):
            rows.append(_equation_rows(item, digits))
            continue
        flush()
        if isinstance(item, Matrix):
            caption = f"<figcaption>{_esc(item.label)}</figcaption>" if item.label else ""
            out.append(f'<figure class="soma-grid">{caption}{matrix_table(item.array, digits)}</figure>')
        elif isinstance(item, Subheading):
            out.append(f"<h4>{_esc(item)}</h4>")
        else:
            out.append(_paragraph(item))
    flush()
    out.append("</section>")
    return "\n".join(out)


def report_html(report, digits, standalone=True):
    """The HTML of ``report``: a whole UTF-8 page, or (``standalone=False``) a fragment."""
    body = [f"<h2>{_esc(report.title)}</h2>"] + [_section_html(s, digits) for s in report.sections]
    fragment = '<div class="soma-report">\n' + "\n".join(body) + "\n</div>"
    if not standalone:
        return f"<style>{STYLE}</style>\n{fragment}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(report.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
    )


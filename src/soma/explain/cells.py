"""One output cell of a convolution or pooling layer, written out as the notes work it by hand.

``soma.explain.step(model, x, t, loss, lr, cell=(i, j))`` adds, for every ``Conv2d``,
``MaxPool2d`` and ``AvgPool2d`` layer, the cell ``out[0, c, i, j]`` (``cell=(c, i, j)``
picks the channel; the default is channel 0 of the first sample)::

    out[0, 0, 1, 2] = b[0] + Σ_{k, p, q} W[0, k, p, q] · x[0, k, s·1 + p, s·2 + q]
                    = 0.1 + 0.5 × 1 + (-0.25) × 2 + ... = 0.85

The window is read from the layer's (padded) input and the sum is checked against the
output soma's layer computed, so the written arithmetic cannot drift from the layer.
"""

import numpy as np

from soma._validation import pair
from soma.explain.examples_common import sum_of_products
from soma.tensor import Tensor

__all__ = ["CELL_LAYERS", "cell_lines", "normalize_cell"]

CELL_LAYERS = ("Conv2d", "MaxPool2d", "AvgPool2d")
MAX_WRITTEN_PRODUCTS = 27  # a 3×3×3 window; bigger windows are written as Σ with their size


def normalize_cell(cell, output_shape, name):
    """``(i, j)`` or ``(c, i, j)`` → ``(c, i, j)``, checked against the (N, C, H, W) output."""
    cell = tuple(int(v) for v in cell)
    if len(cell) == 2:
        cell = (0, *cell)
    if len(cell) != 3:
        raise ValueError(f"soma.explain: cell must be (i, j) or (channel, i, j), got {cell}")
    _, channels, height, width = output_shape
    c, i, j = cell
    if not (0 <= c < channels and 0 <= i < height and 0 <= j < width):
        raise IndexError(
            f"soma.explain: cell {cell} is outside the output of layer {name}: "
            f"{channels} channel(s) of {height}×{width}"
        )
    return cell


def _batched(array):
    return array if array.ndim == 4 else array[None]


def _check(name, written, value):
    if not np.isclose(written, value, rtol=1e-4, atol=1e-6 * (abs(value) + 1.0)):
        raise RuntimeError(f"soma.explain: the written window of {name} gives {written!r}, the layer {value!r}")


def _conv_window(call, c):
    """The zero- (or mode-) padded input and the weights that produce channel ``c``."""
    import soma.nn.functional as F

    module = call.module
    x = Tensor(_batched(call.inputs[0]._array[...]))
    widths = module._explicit_padding()
    if widths is not None and any(widths):
        mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
        x = F.pad(x, widths, mode=mode)
    per_group = module.weight.shape[0] // module.groups
    first = (c // per_group) * module.weight.shape[1]
    return x._array[0, first : first + module.weight.shape[1]], module.weight._array[c]


def _conv_cell(report, section, call, cell):
    module, (c, i, j) = call.module, cell
    x, weight = _conv_window(call, c)
    (sh, sw), (dh, dw) = pair(module.stride), pair(module.dilation)
    kh, kw = weight.shape[1:]
    window = x[:, sh * i : sh * i + dh * (kh - 1) + 1 : dh, sw * j : sw * j + dw * (kw - 1) + 1 : dw]
    value = float(_batched(call.output._array)[0, c, i, j])
    bias = None if module.bias is None else float(module.bias._array[c])
    written = float((window * weight).sum()) + (bias or 0.0)
    _check(f"{call.name} out[0, {c}, {i}, {j}]", written, value)
    lhs = f"{call.name}.out[0, {c}, {i}, {j}]"
    formula = (f"b[{c}] + " if bias is not None else "") + (
        f"Σ_(k, p, q) W[{c}, k, p, q] · x[0, k, {sh}·{i} + {dh}·p, {sw}·{j} + {dw}·q]"
        if (dh, dw) != (1, 1)
        else f"Σ_(k, p, q) W[{c}, k, p, q] · x[0, k, {sh * i} + p, {sw * j} + q]"
    )
    if weight.size > MAX_WRITTEN_PRODUCTS:
        report.equation(section, lhs, value, formula=formula, note=f"a sum over {weight.size} products")
        return
    template, numbers = sum_of_products(weight, window)
    if bias is not None:
        template, numbers = "{} + " + template, (bias, *numbers)
    report.equation(section, lhs, value, formula=formula, numbers=template, numbers_values=numbers)


def _pool_cell(report, section, call, cell):
    module, (c, i, j) = call.module, cell
    kind = type(module).__name__
    kh, kw = pair(module.kernel_size)
    sh, sw = pair(module.stride)
    ph, pw = pair(module.padding)
    dh, dw = pair(getattr(module, "dilation", 1))
    fill = -np.inf if kind == "MaxPool2d" else 0.0
    x = np.pad(_batched(call.inputs[0]._array)[0, c], ((ph, ph), (pw, pw)), constant_values=fill)
    window = x[sh * i : sh * i + dh * (kh - 1) + 1 : dh, sw * j : sw * j + dw * (kw - 1) + 1 : dw].ravel()
    value = float(_batched(call.output._array)[0, c, i, j])
    lhs = f"{call.name}.out[0, {c}, {i}, {j}]"
    cells = ", ".join(["{}"] * window.size)
    if kind == "MaxPool2d":
        _check(lhs, float(window.max()), value)
        report.equation(section, lhs, value, formula=f"max of the {kh}×{kw} window at ({sh * i}, {sw * j})",
                        numbers=f"max({cells})", numbers_values=tuple(window))
        return
    divisor = getattr(module, "divisor_override", None) or (
        window.size if getattr(module, "count_include_pad", True) else int(np.isfinite(window).sum())
    )
    inside = window[np.isfinite(window)]
    _check(lhs, float(inside.sum()) / divisor, value)
    report.equation(section, lhs, value, formula=f"mean of the {kh}×{kw} window at ({sh * i}, {sw * j})",
                    numbers=f"({' + '.join(['{}'] * window.size)}) / {divisor}", numbers_values=tuple(window))


def cell_lines(report, section, call, cell):
    """Write ``out[0, c, i, j]`` of a Conv2d / MaxPool2d / AvgPool2d call (anything else: nothing)."""
    kind = type(call.module).__name__
    if kind not in CELL_LAYERS:
        return
    shape = _batched(call.output._array).shape
    cell = normalize_cell(cell, shape, call.name)
    (_conv_cell if kind == "Conv2d" else _pool_cell)(report, section, call, cell)

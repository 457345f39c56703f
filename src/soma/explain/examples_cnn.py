"""The convolution examples of the notes, computed by soma's own layers.

Every feature map here comes out of ``nn.Conv2d`` (or ``F.conv2d`` for one channel's
share of a multi-channel sum), every pooled map out of ``nn.MaxPool2d``/``nn.AvgPool2d``,
every shape out of a layer's forward pass (LeNet-5's through forward hooks) and every
multiplication count out of ``nn.utils.conv_cost``. The reports write one output of
each map by hand, as the notes do (the top-left output as the sum of its 9 products),
and say plainly where the notes' printed numbers are wrong.
"""

import numpy as np

import soma
import soma.nn.functional as F
from soma import nn
from soma.explain.examples_common import F64, Example, count, notes, sum_of_products, verdict
from soma.explain.layers import FORMULAS
from soma.explain.report import Report, format_number
from soma.models import LeNet5

__all__ = ["EXAMPLES_CNN", "conv_report"]


def _tensor(array):
    return soma.tensor(np.asarray(array, dtype=F64))


def _conv(image, kernel, bias, **options):
    """``nn.Conv2d`` with the notes' kernel: one filter over ``image`` (C, H, W) → the (H', W') map."""
    kernel = np.asarray(kernel, dtype=F64)
    conv = nn.Conv2d(kernel.shape[0], 1, kernel.shape[1:], dtype=F64, **options)
    with soma.no_grad():
        conv.weight._array[...] = kernel[None]
        conv.bias._array[...] = bias
        return conv(_tensor(image)[None])._array[0, 0]


# ----------------------------------------------------------------- feature maps
def _with_cell(worked, cell, shape, title):
    """The worked positions plus ``cell`` (an (i, j) of the output map), checked against its shape."""
    if cell is None:
        return tuple(worked)
    i, j = (int(v) for v in cell)
    if not (0 <= i < shape[0] and 0 <= j < shape[1]):
        raise IndexError(f"{title}: cell ({i}, {j}) is outside the {shape[0]}×{shape[1]} output")
    return tuple(dict.fromkeys((*worked, (i, j))))


def conv_report(title, image, kernel, digits, bias=0.0, worked=((0, 0),), channels=None, cell=None):
    """The report every convolution example shares: the input and kernel, the outputs at
    ``worked`` positions written as sums of products (one per channel, then the total
    with the bias) and the whole map from ``nn.Conv2d``. The caller adds what the notes
    got right or wrong (:func:`verdict`), after any sections of its own.

    Args:
        image: (C, H, W) or (H, W) numbers; kernel: (C, kH, kW) or (kH, kW); bias: b.
        worked: the (i, j) outputs to write out term by term; ``cell`` adds one more.
        channels: a name per channel (``"RGB"``); the default writes no channel names.
    """
    image, kernel = np.asarray(image, dtype=F64), np.asarray(kernel, dtype=F64)
    if image.ndim == 2:
        image, kernel = image[None], kernel[None]
    out = _conv(image, kernel, bias)
    worked = _with_cell(worked, cell, out.shape, title)
    report = Report(title, digits)
    given = report.section("Given")
    names = list(channels) if channels else [""] * image.shape[0]
    for name, x, w in zip(names, image, kernel, strict=True):
        label = f" {name}" if name else ""
        report.matrix(given, f"input x{label} ({x.shape[0]}×{x.shape[1]})", x)
        report.matrix(given, f"kernel W{label} ({w.shape[0]}×{w.shape[1]})", w)
    report.text(
        given,
        f"bias b = {bias:g}; stride 1, no padding; a cross-correlation (the kernel is not "
        "flipped), which is what nn.Conv2d computes.",
    )
    report.values.update(x=image, W=kernel, b=float(bias))
    for i, j in worked:
        _write_output(report, image, kernel, bias, names, (i, j), out[i, j])
    whole = report.section(f"The whole feature map, nn.Conv2d ({out.shape[0]}×{out.shape[1]})")
    report.text(whole, FORMULAS["Conv2d"] + "; here n = c = 0 and s = 1.")
    report.matrix(whole, None, out)
    report.values["out"] = out
    return report


def _write_output(report, image, kernel, bias, names, position, value):
    """out[i, j] as Σ W·x over its window: per channel (each from ``F.conv2d`` on that channel
    alone) and then in total, with the bias; a single channel is one sum of products."""
    i, j = position
    kh, kw = kernel.shape[1:]
    section = report.section(f"out[{i}, {j}]: the kernel laid on the window at row {i}, column {j}")
    if len(names) == 1:
        template, numbers = sum_of_products(kernel[0], image[0, i : i + kh, j : j + kw])
        formula, template = ("Σ W·x + b", template + " + {}") if bias else ("Σ W·x", template)
        numbers = (*numbers, bias) if bias else numbers
        report.equation(section, f"out[{i}, {j}]", value, formula=formula, numbers=template, numbers_values=numbers)
        return
    shares = []
    for c, name in enumerate(names):
        template, numbers = sum_of_products(kernel[c], image[c, i : i + kh, j : j + kw])
        share = F.conv2d(_tensor(image[c : c + 1])[None], _tensor(kernel[c : c + 1])[None])._array[0, 0]
        report.values[f"out_{name}"] = share
        report.equation(
            section, f"out_{name}[{i}, {j}]", share[i, j], formula="Σ W·x", numbers=template, numbers_values=numbers
        )
        shares.append(share[i, j])
    report.equation(
        section,
        f"out[{i}, {j}]",
        value,
        formula=" + ".join(f"out_{name}[{i}, {j}]" for name in names) + " + b",
        numbers=" + ".join(["{}"] * (len(shares) + 1)),
        numbers_values=(*shares, bias),
    )


FIGURE = [
    [25, 110, 65, 0, 34],
    [15, 14, 10, 54, 66],
    [65, 76, 54, 200, 210],
    [176, 5, 73, 67, 89],
    [63, 90, 95, 111, 175],
]


def conv_figure(digits, cell=None):
    """Notes 000's figure: a 5×5 image and the 2×2 kernel [[0, 1], [0, 1]] (a right-column sum)."""
    report = conv_report(
        "Notes 000: the convolution figure, a 5×5 image and a 2×2 kernel",
        FIGURE,
        [[0, 1], [0, 1]],
        digits,
        cell=cell,
    )
    counts = report.section("Weights of one neuron")
    count(report, counts, "dense weights, 5×5×1 image", 25, formula="5 × 5 × 1")
    count(report, counts, "outputs of the 2×2 conv", int(report.values["out"].size), formula="(5 − 2 + 1)²")
    count(report, counts, "weights of the 2×2 kernel", int(report.values["W"].size), formula="2 × 2")
    count(report, counts, "dense weights, 224×224 RGB image", soma.zeros(224, 224, 3).numel(), "224 × 224 × 3")
    return verdict(
        report,
        "The figure prints 124 75 54 / 90 64 254 / 81 76 54 / 176 5 73: a 4×3 corner "
        "whose first seven numbers are right, but 76 and 54 in the third row should be "
        "127 and 267 and its fourth row (176 5 73) only repeats input pixels; the map "
        "is 4×4, as above. '16 weights (n − f + 1)²' is the number of outputs, "
        "(5 − 2 + 1)² = 16; the 2×2 filter has 4 weights.",
    )


EDGE_IMAGE = [[1, 2, 3, 0, 1], [4, 5, 6, 1, 2], [7, 8, 9, 2, 3], [1, 2, 3, 4, 5], [6, 7, 8, 9, 0]]


def vertical_edge(digits, cell=None):
    report = conv_report(
        "Notes 004: a 5×5 image and the vertical-edge kernel [[1, 0, −1]] × 3",
        EDGE_IMAGE,
        [[1, 0, -1]] * 3,
        digits,
        worked=((0, 0), (0, 1)),
        cell=cell,
    )
    relu = report.section("After a ReLU")
    report.equation(relu, "relu(out)", nn.ReLU()(_tensor(report.values["out"]))._array, formula="max(0, out)")
    return verdict(
        report,
        "The notes print all nine outputs as −6. Only the first column is −6: out[0, 1] "
        "= (2 − 0) + (5 − 1) + (8 − 2) = 12, and the map is [[−6, 12, 12], [−6, 8, 8], "
        "[−6, 2, 12]].",
    )


def conv_binary(digits, cell=None):
    image = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
    report = conv_report(
        "Notes 004: a binary 5×5 image and the 3×3 'X' kernel",
        image,
        [[1, 0, 1], [0, 1, 0], [1, 0, 1]],
        digits,
        cell=cell,
    )
    return verdict(report, "The notes show only the top-left output, 4: correct. The rest of the map is above.")


RGB_CORNER = [
    [
        [156, 155, 156, 158, 158],
        [153, 154, 157, 159, 159],
        [149, 151, 155, 158, 159],
        [146, 146, 149, 153, 158],
        [145, 143, 143, 148, 158],
    ],
    [
        [167, 166, 167, 169, 169],
        [164, 165, 168, 170, 170],
        [160, 162, 166, 169, 170],
        [156, 156, 159, 163, 168],
        [155, 153, 153, 158, 168],
    ],
    [
        [163, 162, 163, 165, 165],
        [160, 161, 164, 166, 166],
        [156, 158, 162, 165, 166],
        [155, 155, 158, 162, 167],
        [154, 152, 152, 157, 167],
    ],
]
RGB_KERNEL = [
    [[-1, -1, 1], [0, 1, -1], [0, 1, 1]],
    [[1, 0, 0], [1, -1, -1], [1, 0, -1]],
    [[0, 1, 1], [0, 1, 0], [1, -1, 1]],
]


def conv_3ch_bias(digits, cell=None):
    """The notes show the zero-padded corner of each channel: pad the 5×5 corners by one row and column."""
    padded = np.pad(np.asarray(RGB_CORNER, dtype=F64), ((0, 0), (1, 0), (1, 0)))
    report = conv_report(
        "Notes 004: a 3-channel (RGB) image, a 3×3×3 kernel and bias 1", padded,
        RGB_KERNEL,
        digits,
        1.0,
        channels="RGB",
        cell=cell,
    )
    return verdict(
        report,
        "The notes' 308 + (−498) + 164 + 1 = −25 is right, and so is each channel's "
        "sum. The input above is the 6×6 zero-padded corner the notes show (row 0 and "
        "column 0 are the padding), so the 4×4 map is the corner of the stride-1 output.",
    )


# ---------------------------------------------------------------------- pooling
POOL_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]


def _pool_cell(report, x, out, i, j):
    """out[i, j] of the 3×3, stride-1 max pooling: the largest of the nine numbers under the window."""
    section = report.section(f"out[{i}, {j}]: the largest number in the window at row {i}, column {j}")
    window = x[i : i + 3, j : j + 3].ravel()
    report.equation(
        section,
        f"out[{i}, {j}]",
        out[i, j],
        formula="max(window)",
        numbers="max(" + ", ".join(["{}"] * 9) + ")",
        numbers_values=tuple(window),
    )


def maxpool(digits, cell=None):
    x = _tensor(POOL_INPUT)[None, None]
    title = "Notes 004: max pooling a 5×5 map with a 3×3 window, stride 1"
    report = Report(title, digits)
    given = report.section("Given")
    report.matrix(given, "input x (5×5)", POOL_INPUT)
    report.values["x"] = x._array[0, 0]
    out = nn.MaxPool2d(3, stride=1)(x)._array[0, 0]
    for i, j in _with_cell(((2, 1),), cell, out.shape, title):
        _pool_cell(report, x._array[0, 0], out, i, j)
    whole = report.section("nn.MaxPool2d(3, stride=1) (3×3)")
    report.text(whole, FORMULAS["MaxPool2d"])
    report.matrix(whole, None, out)
    report.values["out"] = out
    others = report.section("Other windows on the same input")
    for name, layer in [
        ("AvgPool2d(3, stride=1)", nn.AvgPool2d(3, stride=1)),
        ("MaxPool2d(2, stride=2)", nn.MaxPool2d(2, stride=2)),
        ("MaxPool2d(3, stride=2)", nn.MaxPool2d(3, stride=2)),
    ]:
        report.equation(others, name, layer(x)._array[0, 0])
    verdict(
        report,
        "The notes' [[3, 3, 3], [3, 3, 3], [3, 2, 3]] is right; they name neither window nor "
        "stride, and 3×3 with stride 1 is the only reading that gives it.",
    )
    return report


def relu_featuremap(digits):
    x = _tensor([[-2, 3, -1], [5, -6, 2], [-3, 4, -7]])
    out = nn.ReLU()(x)._array
    report = Report("Notes 004: ReLU on a 3×3 feature map", digits)
    section = report.section("out = max(0, x), entry by entry (nn.ReLU)")
    report.matrix(section, "x", x._array)
    negative = format_number(x._array[1, 1], digits)
    report.equation(section, "out[1, 1]", out[1, 1], formula="max(0, x[1, 1])", numbers=f"max(0, {negative})")
    report.matrix(section, "out", out)
    report.values.update(x=x._array, out=out)
    return verdict(report, "The notes' [[0, 3, 0], [5, 0, 2], [0, 4, 0]] is right.")


# ----------------------------------------------------------------------- shapes
def _size_equation(report, section, lhs, size, kernel, padding, stride, out):
    report.equation(
        section,
        lhs,
        out,
        formula="(W − F + 2P)/S + 1",
        numbers="({} − {} + 2 × {})/{} + 1",
        numbers_values=(size, kernel, padding, stride),
    )


def conv_output_size(digits):
    conv = nn.Conv2d(32, 8, 6, stride=2, padding=1, dtype=F64)
    out = conv(soma.zeros(1, 32, 32, 32, dtype=F64))
    report = Report("Notes 002: the output size of Conv2d(32 → 8 filters, 6×6, stride 2, padding 1)", digits)
    section = report.section("W_out = (W − F + 2P)/S + 1, read off nn.Conv2d's output")
    report.text(section, f"input (N, C, H, W) = (1, 32, 32, 32) → output {tuple(out.shape)}")
    _size_equation(report, section, "W_out", 32, 6, 1, 2, out.shape[-1])
    report.equation(section, "H_out", out.shape[-2], formula="the same, the image is square")
    report.equation(section, "channels", out.shape[1], formula="one per filter")
    weights = report.section("Parameters")
    count(report, weights, "weights", conv.weight.numel(), formula="8 × 6 × 6 × 32")
    count(report, weights, "parameters", sum(p.numel() for p in conv.parameters()), formula="weights + 8 biases")
    verdict(report, "The notes' 15×15×8 is right (28/2 divides exactly).")
    return report


def conv_shapes(digits):
    report = Report("Notes 003: shapes of a first conv layer, and the curve detector's sum", digits)
    section = report.section("A 32×32×3 image through 5×5×3 and 7×7×3 filters (stride 1, no padding)")
    image = soma.zeros(1, 3, 32, 32, dtype=F64)
    for lhs, filters, size in [("one 5×5 filter", 1, 5), ("two 5×5 filters", 2, 5), ("one 7×7 filter", 1, 7)]:
        out = nn.Conv2d(3, filters, size, dtype=F64)(image)
        report.text(section, f"{lhs}: output {out.shape[2]}×{out.shape[3]}×{out.shape[1]}")
        _size_equation(report, section, f"W_out, {lhs}", 32, size, 0, 1, out.shape[-1])
        count(report, section, f"outputs, {lhs}", out.numel())
    count(report, section, "numbers in a 480×480 RGB image", soma.zeros(480, 480, 3).numel(), formula="480 × 480 × 3")
    curve = report.section("The curve detector on a matching patch")
    report.text(curve, "Only the pixels under the filter's five weights of 30 count: four pixels of 50 and one of 20.")
    pixels, weights = _tensor([50, 50, 50, 50, 20]), _tensor([30] * 5)
    template, numbers = sum_of_products(weights._array, pixels._array)
    report.equation(
        curve,
        "response",
        float((weights * pixels).sum()._array),
        formula="Σ W·x",
        numbers=template,
        numbers_values=numbers,
    )
    return verdict(report, "The notes' 784 (28×28), 28×28×2, 26×26×1 and 6600 are right.")


LENET_NAMES = {
    "features.0": "Conv2D 6 filters 5×5",
    "features.2": "MaxPool 2×2",
    "features.3": "Conv2D 16 filters 5×5",
    "features.5": "MaxPool 2×2",
    "classifier.0": "Flatten",
    "classifier.1": "Dense 120",
    "classifier.3": "Dense 84",
    "classifier.5": "Dense 10",
}


def lenet_shapes(digits):
    """Each layer's output shape, recorded by a forward hook while one 28×28 image goes through LeNet5."""
    model = LeNet5(dtype=F64)
    shapes = {}
    modules = dict(model.named_modules())
    handles = [
        modules[name].register_forward_hook(lambda m, i, o, name=name: shapes.update({name: o.shape}))
        for name in LENET_NAMES
    ]
    model(soma.zeros(1, 1, 28, 28, dtype=F64))
    for handle in handles:
        handle.remove()
    report = Report("Notes 004: LeNet-5's shape table, read off soma.models.LeNet5 by forward hooks", digits)
    section = report.section("Output shape of each layer, (N, C, H, W) → the notes' H×W×C")
    for name, label in LENET_NAMES.items():
        shape = shapes[name]
        notes_form = "×".join(str(s) for s in (*shape[2:], shape[1])) if len(shape) == 4 else str(shape[1])
        report.equation(section, f"{label} ({name})", np.array(shape), note=f"{notes_form} in the notes' layout")
    _size_equation(report, section, "W_out of the first conv", 28, 5, 0, 1, shapes["features.0"][-1])
    params = report.section("Parameters (weights + biases)")
    for name in ["features.0", "features.3", "classifier.1", "classifier.3", "classifier.5"]:
        count(report, params, f"parameters of {name}", sum(p.numel() for p in modules[name].parameters()))
    count(report, params, "parameters", sum(p.numel() for p in model.parameters()))
    verdict(report, "Every shape in the notes' table is right.")
    return report


# ------------------------------------------------------------------------ costs
def separable_counts(digits):
    report = Report("Notes 004: multiplications per output pixel, standard vs separable", digits)
    one = nn.utils.conv_cost(1, 1, 3)
    section = report.section("Spatially separable: a 3×3 kernel vs a 3×1 then a 1×3")
    count(report, section, "3×3 kernel", one["standard"], formula="3 × 3")
    count(report, section, "3×1 then 1×3", one["spatially_separable"], formula="3 + 3")
    cost = nn.utils.conv_cost(3, 64, 3)
    section = report.section("Depthwise separable, 3 input channels, 64 filters of 3×3, per output location")
    count(report, section, "standard", cost["standard"], formula="3 × 3 × 3 × 64")
    count(report, section, "depthwise", cost["depthwise"], formula="3 × 3 × 3")
    count(report, section, "pointwise", cost["pointwise"], formula="3 × 1 × 1 × 64")
    count(report, section, "depthwise separable", cost["depthwise_separable"], formula="depthwise + pointwise")
    verdict(report, "The notes' 9 vs 6 and 1,728 vs 27 + 192 = 219 are right (nn.utils.conv_cost).")
    return report


def conv_mult_counts(digits):
    """The output size comes from a real 'same' nn.Conv2d; the counts from ``nn.utils.conv_cost``."""
    out = nn.Conv2d(3, 64, 3, padding="same", dtype=F64)(soma.zeros(1, 3, 32, 32, dtype=F64))
    cost = nn.utils.conv_cost(3, 64, 3, output_size=tuple(out.shape[2:]))
    report = Report("Notes 004: total multiplications of a 32×32×3 → 64 convolution, 3×3 kernels", digits)
    section = report.section(f"Output {out.shape[2]}×{out.shape[3]}×{out.shape[1]} ('same' padding)")
    for lhs, formula in [
        ("standard", "H·W·C_out·K²·C_in = 32 × 32 × 64 × 27"),
        ("depthwise", "H·W·C_in·K² = 32 × 32 × 27"),
        ("pointwise", "H·W·C_in·C_out = 32 × 32 × 3 × 64"),
        ("depthwise_separable", "depthwise + pointwise"),
    ]:
        count(report, section, lhs, cost[lhs], formula)
    report.equation(section, "ratio", cost["ratio"], formula="depthwise_separable / standard = 1/C_out + 1/K²")
    report.equation(
        section, "notes' standard / standard", 56_623_104 / cost["standard"], formula="56,623,104 / 1,769,472"
    )
    verdict(
        report,
        "The notes' standard count 32 × 32 × 64 × 27 = 56,623,104 is wrong: that product is "
        "1,769,472, and 56,623,104 is 32 times it. The depthwise 27,648 is right, but it "
        "leaves out the pointwise step; the fair comparison is 224,256 vs 1,769,472.",
    )
    return report


EXAMPLES_CNN = [
    Example("conv-figure", "N000-conv-figure", "5×5 image * 2×2 kernel, the figure of notes 000", conv_figure),
    notes(4, "conv-vertical-edge", "5×5 image * vertical-edge 3×3 kernel", vertical_edge),
    notes(4, "conv-binary", "binary 5×5 image * 3×3 'X' kernel", conv_binary),
    notes(4, "conv-3ch-bias", "RGB image * 3×3×3 kernel + bias 1 = −25", conv_3ch_bias),
    notes(4, "maxpool", "3×3 max pooling, stride 1", maxpool),
    notes(4, "relu-featuremap", "ReLU of a 3×3 feature map", relu_featuremap),
    notes(2, "conv-output-size", "(W − F + 2P)/S + 1 for 32×32×32, 8 filters 6×6", conv_output_size),
    notes(3, "conv-shapes", "32×32×3 through 5×5 and 7×7 filters; curve detector", conv_shapes),
    notes(4, "lenet-shapes", "LeNet-5's layer shapes and parameters", lenet_shapes),
    notes(4, "separable-counts", "multiplications per pixel, separable convs", separable_counts),
    notes(4, "conv-mult-counts", "total multiplications, standard vs depthwise", conv_mult_counts),
]

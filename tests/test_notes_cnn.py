"""The CNN worked examples of the lecture notes (see docs/notes-examples.md), with their numbers.

Where the notes' arithmetic is wrong the test asserts the correct value and says
what the notes printed.
"""

import numpy as np
import pytest

import soma
import soma.nn as nn
import soma.nn.functional as F
from soma.models import LeNet5
from soma.nn.utils import conv_cost

ALGORITHMS = ["im2col", "fft", "direct"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_n004_vertical_edge_full_map(algorithm):
    """N004-conv-vertical-edge. The notes print all nine entries as −6; only the first column is −6."""
    image = soma.tensor([[1, 2, 3, 0, 1], [4, 5, 6, 1, 2], [7, 8, 9, 2, 3], [1, 2, 3, 4, 5], [6, 7, 8, 9, 0]],
                        dtype=soma.float64)
    kernel = soma.tensor([[1, 0, -1]] * 3, dtype=soma.float64)
    out = F.conv2d(image[None, None], kernel[None, None], algorithm=algorithm)[0, 0].numpy()
    assert out[0, 0] == pytest.approx(-6, abs=1e-10)  # 1 + 0 − 3 + 4 + 0 − 6 + 7 + 0 − 9, worked in the notes
    np.testing.assert_allclose(out, [[-6, 12, 12], [-6, 8, 8], [-6, 2, 12]], atol=1e-10)
    padded = F.conv2d(image[None, None], kernel[None, None], padding=1, algorithm=algorithm)[0, 0].numpy()
    np.testing.assert_allclose(padded, [[-7, -4, 6, 6, 1], [-15, -6, 12, 12, 3], [-15, -6, 8, 8, 7],
                                        [-17, -6, 2, 12, 15], [-9, -4, -4, 6, 13]], atol=1e-10)
    np.testing.assert_allclose(F.relu(soma.tensor(out)).numpy(), [[0, 12, 12], [0, 8, 8], [0, 2, 12]])


def test_n004_binary_image_x_kernel():
    """N004-conv-binary: the notes show the top-left 4; the full convolved feature."""
    image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], np.float32)
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], np.float32)
    out = F.conv2d(soma.tensor(image[None, None]), soma.tensor(kernel[None, None]))[0, 0].numpy()
    np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_n000_convolution_figure():
    """N000-conv-figure: the figure's 2×2 kernel [[0,1],[0,1]]; its last rows were garbled, here the full 4×4."""
    image = np.array([[25, 110, 65, 0, 34], [15, 14, 10, 54, 66], [65, 76, 54, 200, 210], [176, 5, 73, 67, 89],
                      [63, 90, 95, 111, 175]], np.float64)
    out = F.conv2d(soma.tensor(image[None, None]), soma.tensor(np.array([[[[0.0, 1], [0, 1]]]])))[0, 0].numpy()
    np.testing.assert_allclose(out, [[124, 75, 54, 100], [90, 64, 254, 276], [81, 127, 267, 299],
                                     [95, 168, 178, 264]])


def test_n004_three_channel_kernel_with_bias_gives_minus_25():
    """N004-conv-3ch-bias: 308 + (−498) + 164 + 1 = −25, and the 4×4 block the visible pixels fix."""
    red = [[0, 0, 0, 0, 0, 0], [0, 156, 155, 156, 158, 158], [0, 153, 154, 157, 159, 159],
           [0, 149, 151, 155, 158, 159], [0, 146, 146, 149, 153, 158], [0, 145, 143, 143, 148, 158]]
    green = [[0, 0, 0, 0, 0, 0], [0, 167, 166, 167, 169, 169], [0, 164, 165, 168, 170, 170],
             [0, 160, 162, 166, 169, 170], [0, 156, 156, 159, 163, 168], [0, 155, 153, 153, 158, 168]]
    blue = [[0, 0, 0, 0, 0, 0], [0, 163, 162, 163, 165, 165], [0, 160, 161, 164, 166, 166],
            [0, 156, 158, 162, 165, 166], [0, 155, 155, 158, 162, 167], [0, 154, 152, 152, 157, 167]]
    layer = nn.Conv2d(3, 1, 3)
    with soma.no_grad():
        layer.weight._array[...] = [[[[-1, -1, 1], [0, 1, -1], [0, 1, 1]], [[1, 0, 0], [1, -1, -1], [1, 0, -1]],
                                   [[0, 1, 1], [0, 1, 0], [1, -1, 1]]]]
        layer.bias._array[...] = 1
    x = soma.tensor(np.array([red, green, blue], np.float32)[None])
    out = layer(x)[0, 0].detach().numpy()
    assert out[0, 0] == -25
    np.testing.assert_array_equal(out, [[-25, 466, 466, 475], [295, 787, 798, 812], [291, 776, 784, 800],
                                        [293, 771, 773, 782]])
    per_channel = [F.conv2d(x[:, c : c + 1], layer.weight[:, c : c + 1])[0, 0, 0, 0].item() for c in range(3)]
    assert per_channel == [308, -498, 164]


POOL_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]


def test_n004_max_pooling_examples():
    """N004-maxpool: a 3×3 window with stride 1 gives the notes' grid; the other readings for comparison."""
    x = soma.tensor(np.array(POOL_INPUT, np.float64)[None, None])
    np.testing.assert_array_equal(nn.MaxPool2d(3, stride=1)(x)[0, 0].numpy(), [[3, 3, 3], [3, 3, 3], [3, 2, 3]])
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x)[0, 0].numpy(), [[3, 3], [3, 2]])
    np.testing.assert_array_equal(nn.MaxPool2d(3, stride=2)(x)[0, 0].numpy(), [[3, 3], [3, 3]])
    np.testing.assert_allclose(nn.AvgPool2d(3, stride=1)(x)[0, 0].numpy(),
                               [[15 / 9, 15 / 9, 15 / 9], [1, 11 / 9, 16 / 9], [10 / 9, 7 / 9, 12 / 9]], rtol=1e-12)


def test_n004_relu_feature_map():
    x = soma.tensor([[-2.0, 3, -1], [5, -6, 2], [-3, 4, -7]])
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), [[0, 3, 0], [5, 0, 2], [0, 4, 0]])


def test_n002_output_size_15x15x8():
    """N002-conv-output-size: 8 filters 6×6, stride 2, padding 1 on 32×32×32 → 15×15×8 (9,224 parameters)."""
    layer = nn.Conv2d(32, 8, 6, stride=2, padding=1)
    assert layer(soma.randn(1, 32, 32, 32)).shape == (1, 8, 15, 15)
    assert sum(p.numel() for p in layer.parameters()) == 9224
    assert soma.nn.functional.conv.conv_output_size(32, 6, stride=2, padding=1) == 15


def test_n003_conv_shapes():
    """N003-conv-shapes: 32×32×3 with 5×5×3 kernels → 28×28 per kernel; a 7×7×3 kernel → 26×26."""
    x = soma.randn(1, 3, 32, 32)
    assert nn.Conv2d(3, 1, 5)(x).shape == (1, 1, 28, 28)
    assert nn.Conv2d(3, 2, 5)(x).shape == (1, 2, 28, 28)
    assert nn.Conv2d(3, 1, 7)(x).shape == (1, 1, 26, 26)


def test_n004_lenet_shape_table():
    """N004-lenet-shapes, run as forward shapes (NCHW), and the parameter counts (44,426 in all)."""
    model = LeNet5()
    shapes, x = [], soma.randn(2, 1, 28, 28)
    for layer in (*model.features, *model.classifier):
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(6, 24, 24), (6, 24, 24), (6, 12, 12), (16, 8, 8), (16, 8, 8), (16, 4, 4),
                      (256,), (120,), (120,), (84,), (84,), (10,)]
    counts = [sum(p.numel() for p in m.parameters()) for m in (model.features[0], model.features[3],
                                                               *model.classifier[1::2])]
    assert counts == [156, 2416, 30840, 10164, 850]
    assert sum(p.numel() for p in model.parameters()) == 44426


def test_n004_multiplications_per_output_location():
    """N004-separable-counts: 9 vs 3 + 3 = 6 per pixel; 1,728 standard vs 27 + 192 = 219 per location."""
    single = conv_cost(1, 1, 3)
    assert single["standard"] == 9 and single["spatially_separable"] == 6
    cost = conv_cost(3, 64, 3)
    assert (cost["standard"], cost["depthwise"], cost["pointwise"], cost["depthwise_separable"]) == (1728, 27, 192, 219)


def test_n004_total_multiplication_counts():
    """N004-conv-mult-counts, 32×32×3 → 64 filters 3×3, 'same' padding.

    The notes write 32 × 32 × 64 × 27 = 56,623,104 for the standard convolution;
    that product is 1,769,472 (the notes' figure has an extra factor 32). The
    depthwise count 27,648 is right.
    """
    cost = conv_cost(3, 64, 3, output_size=32)
    assert cost["standard"] == 32 * 32 * 64 * 27 == 1_769_472
    assert cost["standard"] * 32 == 56_623_104  # what the notes printed
    assert cost["depthwise"] == 27_648
    assert cost["pointwise"] == 196_608 and cost["depthwise_separable"] == 224_256
    assert cost["ratio"] == pytest.approx(1 / 64 + 1 / 9)


def test_depthwise_separable_layer_does_what_conv_cost_counts():
    """The layers' weights are the per-location multiplication counts: 27 depthwise, 192 pointwise."""
    layer = nn.DepthwiseSeparableConv2d(3, 64, 3, padding=1, bias=False)
    assert layer.depthwise.weight.numel() == 27 and layer.pointwise.weight.numel() == 192
    assert nn.Conv2d(3, 64, 3, bias=False).weight.numel() == 1728
    assert layer(soma.randn(1, 3, 32, 32)).shape == (1, 64, 32, 32)

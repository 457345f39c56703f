"""soma._validation: the int-or-tuple convention and the convolution size formulas, against torch's layers."""

import itertools

import numpy as np
import pytest
import torch

import soma.transforms
from soma import nn
from soma._validation import conv_output_size, conv_transpose_output_size, ntuple, pair


def test_ntuple_repeats_an_int_and_checks_a_sequence():
    assert ntuple(3, 2) == (3, 3) and ntuple([1, 2, 3], 3) == (1, 2, 3) and pair(np.int64(4)) == (4, 4)
    with pytest.raises(ValueError, match=r"Conv2d: stride must be an int or a tuple of 2 ints, got \(1, 2, 3\)"):
        pair((1, 2, 3), "Conv2d", "stride")
    for bad in (2.5, "ab", (1, None)):
        with pytest.raises(TypeError, match="kernel_size must be an int"):
            pair(bad, "Conv2d", "kernel_size")


def test_layers_name_a_bad_size_argument():
    with pytest.raises(ValueError, match="Conv1d: padding must be an int or a tuple of 1 ints"):
        nn.Conv1d(1, 1, 3, padding=(1, 1))
    with pytest.raises(TypeError, match="RandomCrop: size"):
        soma.transforms.RandomCrop(2.5)


@pytest.mark.parametrize("size,kernel,stride,padding,dilation", [
    case for case in itertools.product([5, 8, 11], [1, 3], [1, 2, 3], [0, 1], [1, 2])
    if case[0] + 2 * case[3] >= case[4] * (case[1] - 1) + 1
])
def test_size_formulas_are_torchs(size, kernel, stride, padding, dilation):
    conv = torch.nn.Conv1d(1, 1, kernel, stride, padding, dilation)
    out = conv(torch.zeros(1, 1, size)).shape[-1]
    assert conv_output_size(size, kernel, stride, padding, dilation) == out
    for output_padding in range(max(stride, dilation)):  # torch's allowed output paddings
        transpose = torch.nn.ConvTranspose1d(1, 1, kernel, stride, padding, output_padding, dilation=dilation)
        expected = transpose(torch.zeros(1, 1, out)).shape[-1]
        assert conv_transpose_output_size(out, kernel, stride, padding, dilation, output_padding) == expected

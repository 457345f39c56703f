"""nn.ConstantPad/ZeroPad/ReflectionPad/ReplicationPad/CircularPad{1,2,3}d against PyTorch: values, gradients,
repr, batched and unbatched inputs, int and tuple padding, negative (cropping) constant padding, bad input."""

import numpy as np
import pytest
import torch
from tests.helpers import check_module_against_torch, raises_like_torch, random_array

import soma
import soma.nn as nn
from soma.autograd import gradcheck

KINDS = ["ConstantPad", "ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad"]
PADDINGS = {1: [2, (1, 3)], 2: [1, (2, 0, 1, 3)], 3: [1, (1, 0, 2, 1, 0, 2)]}
SPATIAL = {1: (5,), 2: (4, 5), 3: (3, 4, 5)}


def _layer(lib, kind, dims, padding):
    cls = getattr(lib.nn, f"{kind}{dims}d")
    return cls(padding, 1.5) if kind == "ConstantPad" else cls(padding)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("batched", [True, False])
def test_padding_layers_match_pytorch(kind, dims, batched):
    for i, padding in enumerate(PADDINGS[dims]):
        shape = ((2,) if batched else ()) + (3,) + SPATIAL[dims]
        dtype = np.float32 if i else np.float64
        ours, theirs = _layer(soma, kind, dims, padding), _layer(torch, kind, dims, padding)
        assert repr(ours) == repr(theirs) and ours.padding == theirs.padding
        assert ours.state_dict() == {} and list(ours.parameters()) == []
        check_module_against_torch(ours, theirs, [random_array(shape, dtype, seed=dims)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    x = soma.tensor(random_array((2, 3, 4, 5)), requires_grad=True)
    assert gradcheck(lambda x: soma.nn.functional.pad(x, (2, 1, 0, 3), mode=mode, value=0.5), (x,))
    assert gradcheck(lambda x: soma.nn.functional.pad(x, (1, 1, 2, 0, 1, 2), mode=mode), (x,))


@pytest.mark.parametrize("padding", [-1, (-2, 1), (1, -3, -1, 2), (0, -5)])
def test_negative_constant_padding_crops_as_pytorch(padding):
    dims = 2 if len(np.atleast_1d(padding)) == 4 else 1
    cls = "ConstantPad2d" if dims == 2 else "ConstantPad1d"
    check_module_against_torch(getattr(nn, cls)(padding, 2.0), getattr(torch.nn, cls)(padding, 2.0),
                               [random_array((2, 4, 5))])


def test_constant_padding_casts_the_value_to_an_integer_input_and_pads_an_empty_batch():
    x = np.arange(6, dtype=np.int32).reshape(1, 2, 3)
    ours = nn.ConstantPad1d(2, 1.5)(soma.tensor(x))
    theirs = torch.nn.ConstantPad1d(2, 1.5)(torch.tensor(x))
    assert ours.dtype == np.int32 and np.array_equal(ours.numpy(), theirs.numpy())
    for kind in KINDS:  # a batch of none pads to a batch of none
        empty = np.zeros((0, 3, 4, 5))
        assert _layer(soma, kind, 2, 1)(soma.tensor(empty)).shape == tuple(_layer(torch, kind, 2, 1)(
            torch.tensor(empty)).shape)


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.ReflectionPad1d(5)(lib.zeros(2, 3, 5)),  # reflection as wide as the dimension
    lambda lib: lib.nn.CircularPad1d(6)(lib.zeros(2, 3, 5)),  # wraps around more than once
    lambda lib: lib.nn.CircularPad2d(1)(lib.zeros(3, 4)),  # a 2-D input to a 2-d circular pad
    lambda lib: lib.nn.ReflectionPad2d(1)(lib.zeros(3, 4)),
    lambda lib: lib.nn.ReplicationPad3d(1)(lib.zeros(1, 2, 3, 4, 5, 6)),
    lambda lib: lib.nn.ZeroPad2d(1)(lib.zeros(4)),  # padding longer than twice the input's dims
    lambda lib: lib.nn.ZeroPad2d((1, 2, 3))(lib.zeros(2, 4, 4)),  # odd padding length
    lambda lib: lib.nn.ConstantPad1d(-3, 0.0)(lib.zeros(2, 5)),  # crops below size 0
    lambda lib: lib.nn.ReplicationPad1d(2)(lib.zeros(2, 3, 0)),  # nothing to replicate
    lambda lib: lib.nn.ReflectionPad1d(1)(lib.zeros(0, 4)),  # unbatched: C = 0
])
def test_bad_input_raises_like_pytorch(case):
    raises_like_torch(case)


def test_error_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"\(5\).*\(2, 3, 5\)"):
        nn.CircularPad1d(6)(soma.zeros(2, 3, 5))
    with pytest.raises(ValueError, match=r"CircularPad2d.*\(3, 4\)"):
        nn.CircularPad2d(1)(soma.zeros(3, 4))


def test_nan_passes_through_and_padding_is_the_border_value():
    x = soma.tensor([[[np.nan, 1.0, 2.0]]])
    np.testing.assert_array_equal(nn.ReplicationPad1d(1)(x).numpy(), [[[np.nan, np.nan, 1.0, 2.0, 2.0]]])
    np.testing.assert_array_equal(nn.CircularPad1d(1)(x).numpy(), [[[2.0, np.nan, 1.0, 2.0, np.nan]]])

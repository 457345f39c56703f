"""nn.LocalResponseNorm / F.local_response_norm and nn.Softmax2d against PyTorch: values, dtypes, input gradients,
float64 gradchecks, repr, bad input."""

import numpy as np
import pytest
import torch
from tests.helpers import check_against_torch, check_module_against_torch, raises_like_torch, random_array

import soma
import soma.nn as nn
from soma.autograd import gradcheck
from soma.nn.functional.normalization import local_response_norm

SHAPES = [(2, 5, 4), (2, 6, 3, 4), (2, 4, 2, 3, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [1, 2, 3, 8])
def test_local_response_norm_matches_pytorch(shape, size):
    x = random_array(shape, seed=size) * 3
    check_against_torch(lambda x: local_response_norm(x, size, 0.05, 0.6, 1.5),
                        lambda x: torch.nn.functional.local_response_norm(x, size, 0.05, 0.6, 1.5), [x])
    ours, theirs = nn.LocalResponseNorm(size), torch.nn.LocalResponseNorm(size)
    assert repr(ours) == repr(theirs)
    check_module_against_torch(ours, theirs, [x.astype(np.float32)])


def test_local_response_norm_gradcheck_and_integer_input():
    x = soma.tensor(random_array((2, 4, 3)), requires_grad=True)
    assert gradcheck(lambda x: local_response_norm(x, 3, 0.5, 0.75, 1.0), (x,))
    ints = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    ours = local_response_norm(soma.tensor(ints), 2)
    theirs = torch.nn.functional.local_response_norm(torch.tensor(ints), 2)
    assert ours.dtype == np.float32 and str(theirs.dtype) == "torch.float32"
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_an_empty_input_is_returned_as_is():
    x = soma.zeros(0, 3, 4)
    assert local_response_norm(x, 2) is x


@pytest.mark.parametrize("batched", [True, False])
def test_softmax2d_matches_pytorch(batched):
    shape = (2, 3, 4, 5) if batched else (3, 4, 5)
    assert repr(nn.Softmax2d()) == repr(torch.nn.Softmax2d())
    check_module_against_torch(nn.Softmax2d(), torch.nn.Softmax2d(), [random_array(shape) * 4])
    check_module_against_torch(nn.Softmax2d(), torch.nn.Softmax2d(), [random_array(shape, np.float32)])
    x = soma.tensor(random_array(shape), requires_grad=True)
    assert gradcheck(nn.Softmax2d(), (x,))


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.functional.local_response_norm(lib.zeros(2, 3), 2),
    lambda lib: lib.nn.LocalResponseNorm(0)(lib.zeros(2, 3, 4)),
    lambda lib: lib.nn.Softmax2d()(lib.zeros(2, 3)),
    lambda lib: lib.nn.Softmax2d()(lib.zeros(2, 3, 4, 4, 4)),
    lambda lib: lib.nn.Softmax2d()(lib.zeros(2, 3, 4, dtype=lib.int64)),
])
def test_bad_input_raises_like_pytorch(case):
    raises_like_torch(case)


def test_errors_name_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"Softmax2d.*\(2, 3\)"):
        nn.Softmax2d()(soma.zeros(2, 3))
    with pytest.raises(ValueError, match=r"local_response_norm.*\(2, 3\)"):
        nn.LocalResponseNorm(2)(soma.zeros(2, 3))

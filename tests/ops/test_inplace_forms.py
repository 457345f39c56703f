"""The in-place forms of existing methods (x.exp_(), x.eq_(y), x.addmm_(a, b), ...) against PyTorch:
the values written, the tensor returned, the gradient through a non-leaf, and the dtype rule."""

import numpy as np
import pytest
import torch

import soma
from soma._surface import _INPLACE_OF_METHODS

X = np.array([[0.3, 1.7, 0.5], [2.2, 0.9, 1.1]])
OTHER = np.array([[0.4, 1.7, 2.5], [0.1, 0.9, 3.0]])
INTEGER = ("bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift")
ARGS = {  # name -> the extra arguments (arrays become tensors); default: one tensor like X
    "addmm": (np.ones((2, 4)), np.ones((4, 3))), "addmv": None, "baddbmm": None, "clamp_max": (1.0,),
    "clamp_min": (1.0,), "cumsum": (1,), "lerp": (OTHER, 0.3), "round": (), "tril": (), "triu": (1,),
    "nan_to_num": (), "bitwise_not": (), "logical_not": (),
}
# PyTorch's gradients here are no reference: logical_*_ keeps the old history (as if the op were the
# identity) and sgn_ leaves a ZeroTensor numpy() refuses; soma's gradient is zero, as for eq_
VALUES_ONLY = {"logical_and", "logical_not", "logical_or", "logical_xor", "sgn"}
UNARY = {"abs", "absolute", "ceil", "cos", "exp", "expm1", "fix", "floor", "frac", "log1p", "log", "reciprocal",
         "relu", "rsqrt", "sgn", "sigmoid", "sign", "sin", "sqrt", "square", "tanh", "trunc"}


def _args(lib, name):
    extra = () if name in UNARY else ARGS.get(name, (OTHER,))
    return [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in extra]


CHECKED = [n for n in _INPLACE_OF_METHODS if ARGS.get(n, ()) is not None]


@pytest.mark.parametrize("name", CHECKED)
def test_inplace_form_matches_torch(name):
    integer = name in INTEGER
    base = (X * 10).astype(np.int64) if integer else X
    results = []
    for lib in (soma, torch):
        leaf = lib.tensor(base, requires_grad=not integer)
        y = leaf * 1
        args = _args(lib, name)
        if integer:
            args = [lib.tensor((OTHER * 3).astype(np.int64) % 4) if isinstance(a, (soma.Tensor, torch.Tensor)) else a
                    for a in args]
        assert getattr(y, name + "_")(*args) is y
        grad = None
        if not integer and y.requires_grad and name not in VALUES_ONLY:
            (y * lib.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
            grad = leaf.grad
        results.append((y.detach().numpy(), None if grad is None else grad.numpy()))
    (sv, sg), (tv, tg) = results
    np.testing.assert_allclose(sv, tv, rtol=1e-12)
    assert sv.dtype == tv.dtype
    if tg is not None:
        np.testing.assert_allclose(sg, tg, rtol=1e-12, atol=1e-14)


def test_inplace_keeps_the_dtype_rule():
    with pytest.raises(RuntimeError, match="sqrt_"):
        soma.tensor([1, 4]).sqrt_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 4]).sqrt_()
    with pytest.raises(RuntimeError, match="leaf"):
        soma.ones(2, requires_grad=True).exp_()

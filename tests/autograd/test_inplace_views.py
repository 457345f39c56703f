"""In-place ops on views of tensors in the graph reach their base, as PyTorch's CopySlices."""

import numpy as np
import pytest
import torch

import soma

rng = np.random.default_rng(0)


def _both(fn, *shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    s_in = [soma.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    s_out, t_out = fn(soma, *s_in), fn(torch, *t_in)
    np.testing.assert_allclose(s_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)
    s_out.sum().backward()
    t_out.sum().backward()
    for s, t in zip(s_in, t_in):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


def _mul_row(lib, x):
    y = x * 2
    y[0].mul_(3)
    return y * y


def _copy_into_buffer(lib, x):
    buf = lib.zeros(3, 4, dtype=lib.float64)
    buf[1].copy_(x)
    return buf.sin()


def _reshape_view(lib, x):
    y = x * 1
    y.view(-1)[1:4].mul_(x.view(-1)[:3].exp())
    return y.exp()


def _transpose_view(lib, x):
    y = x + 0
    y.t()[0].mul_(5)
    return y * x


def _view_of_a_view(lib, x):
    y = x.tanh()
    z = y * 1
    z[1][1:].mul_(y[0][1:])
    return z * y


def _setitem_on_a_view(lib, x, v):
    y = x * 1
    y[:, 1][0:2] = v * 3
    return y.cos()


@pytest.mark.parametrize("fn, shapes", [
    (_mul_row, [(3, 4)]), (_copy_into_buffer, [(4,)]), (_reshape_view, [(2, 3)]), (_transpose_view, [(3, 3)]),
    (_view_of_a_view, [(2, 3)]), (_setitem_on_a_view, [(3, 3), (2,)]),
], ids=["mul_ row", "copy_ into a buffer", "reshape view", "transpose view", "view of a view", "setitem on a view"])
def test_inplace_on_a_view_matches_torch(fn, shapes):
    _both(fn, *shapes)


def test_inplace_on_a_view_of_a_leaf_is_an_error_and_changes_nothing():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].add_(1)
    assert x.detach().numpy().tolist() == [1.0, 2.0]


def test_a_saved_output_changed_through_a_view_is_caught():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y[0].add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_outside_the_graph_a_view_writes_its_base():
    buf = soma.zeros(2, 3)
    buf[1].fill_(4)
    assert buf.numpy().tolist() == [[0, 0, 0], [4, 4, 4]] and buf.grad_fn is None


def test_earlier_consumers_keep_the_history_they_saw():
    """y = x·2; z = y + 1; y.mul_(3): z's gradient goes to the old y (it once went through the new one)."""
    for lib in (soma, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y + 1
        y.mul_(3)
        (z + y).sum().backward()
        assert x.grad.tolist() == [8.0, 8.0]


def test_an_inplace_result_outside_the_graph_ends_the_history():
    """y.eq_(0) on a non-leaf: y's values are 0/1 and its gradient is zero (it kept the old one before)."""
    for lib in (soma, torch):
        x = lib.tensor([0.0, 2.0], requires_grad=True)
        y = x * 2
        y.eq_(0)
        (y * x).sum().backward()
        assert y.requires_grad and x.grad.tolist() == [1.0, 0.0]


def test_the_generic_inplace_path_ends_the_history_of_a_result_outside_the_graph():
    x = soma.tensor([0.0, 2.0], requires_grad=True)
    y = x * 2
    y._inplace("gt_", soma.gt, 1.0, cast=True)  # any op whose result needs no gradient
    (y * x).sum().backward()
    assert y.requires_grad and y.tolist() == [0.0, 1.0] and x.grad.tolist() == [0.0, 1.0]

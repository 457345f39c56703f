"""x.squeeze_(), unsqueeze_(), transpose_(), t_(), swapaxes_(), swapdims_(): x itself changes shape, as in PyTorch."""

import numpy as np
import pytest
import torch

import soma

CASES = [("unsqueeze_", (0,), (3, 4)), ("unsqueeze_", (-1,), (3, 4)), ("squeeze_", (), (1, 3, 1, 4)),
         ("squeeze_", (0,), (1, 3, 1)), ("squeeze_", (1,), (2, 3)), ("transpose_", (0, 2), (2, 3, 4)),
         ("t_", (), (3, 4)), ("t_", (), (5,)), ("swapaxes_", (0, 1), (2, 3, 4)), ("swapdims_", (1, 2), (2, 3, 4))]


@pytest.mark.parametrize("name, args, shape", CASES)
def test_the_tensor_itself_takes_the_new_shape_and_gradients_flow(name, args, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    ours, theirs = soma.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = ours * 2, theirs * 2
    assert getattr(a, name)(*args) is a and getattr(b, name)(*args) is b
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    g = np.random.default_rng(1).standard_normal(tuple(b.shape))
    (a * soma.tensor(g)).sum().backward()
    (b * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_memory_is_shared_and_the_version_advances():
    x = soma.zeros(2, 3)
    row = x[0]
    version = x._version
    x.t_()
    assert tuple(x.shape) == (3, 2) and x._version > version
    x[1, 0] = 5.0  # x is the transpose of the same memory: this is the old x[0, 1]
    assert row.tolist() == [0.0, 5.0, 0.0]


def test_errors_as_torch():
    leaf = soma.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.unsqueeze_(0)
    with soma.no_grad():
        leaf.unsqueeze_(0)  # allowed without grad mode, as in PyTorch
    assert tuple(leaf.shape) == (1, 3) and leaf.is_leaf and leaf.requires_grad
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        soma.zeros(2, 3, 4).t_()
    with pytest.raises(IndexError):
        soma.zeros(2).unsqueeze_(5)


def test_a_saved_tensor_changed_by_a_shape_change_is_caught():
    a = soma.ones(3, requires_grad=True) * 2
    s = a.sin()
    a.unsqueeze_(0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def test_a_view_of_a_view_keeps_writing_through_to_its_base():
    base = soma.ones(2, 3, requires_grad=True)
    y = base * 1
    v = y.reshape(3, 2)
    v.unsqueeze_(0)  # still one reshape of y
    v.mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(base.grad.numpy(), np.full((2, 3), 3.0))

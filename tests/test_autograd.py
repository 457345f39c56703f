"""The backward engine: accumulation, reuse, grad modes, in-place safety, custom Functions."""

import numpy as np
import pytest
import torch

import soma
from soma.autograd import Function, GradcheckError, gradcheck


def test_gradient_accumulates_across_backward_calls():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_reused_node_sums_both_paths():
    # y = h * h + h with h = 2x: dy/dx = (2h + 1) * 2
    x = soma.tensor([0.5, -1.0], requires_grad=True)
    h = x * 2
    (h * h + h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * np.array([1.0, -2.0]) + 1) * 2)


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    a = soma.tensor([1.0, 2.0], requires_grad=True)
    b = soma.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same array to both inputs
    a.grad.mul_(10)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_retain_grad_keeps_intermediate_gradient():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    z = x * 4
    (z * 1).sum().backward()
    assert z.grad is None  # not retained


def test_hooks_see_and_may_replace_gradients():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_no_grad_and_enable_grad():
    x = soma.tensor([1.0], requires_grad=True)
    with soma.no_grad():
        y = x * 2
        with soma.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and soma.is_grad_enabled()

    @soma.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    with soma.set_grad_enabled(False):
        assert not soma.is_grad_enabled()
    assert soma.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_memory():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = x * 1
    with soma.no_grad():
        y.detach()._array[0] = 5.0
    assert y._array[0] == 5.0


def test_backward_twice_needs_retain_graph():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_non_scalar_backward_needs_gradient():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(soma.tensor([1.0, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -2.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(soma.ones(3))


def test_backward_on_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        soma.tensor([1.0]).sum().backward()


def test_inplace_on_leaf_requiring_grad_is_an_error():
    w = soma.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        w += 1
    with soma.no_grad():
        w.sub_(0.5)  # optimizer-style update is fine
    np.testing.assert_allclose(w.numpy() if not w.requires_grad else w._array, [0.5, 1.5])


def test_inplace_change_of_a_saved_tensor_is_detected():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    w = soma.tensor([3.0, 4.0])
    y = (x * w).sum()  # Mul saved w
    w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_unsaved_input_is_allowed():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    b = soma.tensor([3.0, 4.0])
    y = (x + b).sum()  # Add saves nothing
    b.add_(1)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_setitem_and_requires_grad_rules():
    t = soma.zeros(3)
    t[1] = 5.0
    t[soma.tensor([0, 2])] = soma.tensor([1.0, 2.0])
    np.testing.assert_allclose(t.numpy(), [1.0, 5.0, 2.0])
    with pytest.raises(RuntimeError, match="only floating-point"):
        soma.tensor([1, 2]).requires_grad_()
    y = soma.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf tensors"):
        y.requires_grad_(False)


def test_long_chain_does_not_recurse():
    x = soma.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**5000], rtol=1e-4)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2  # d(x³)/dx = 3x²


class SplitHalves(Function):
    """A two-output Function: (first half, second half * 2)."""

    @staticmethod
    def forward(ctx, x):
        n = x.shape[0] // 2
        ctx.n = n
        return x[:n].copy(), x[n:] * 2

    @staticmethod
    def backward(ctx, grad_first, grad_second):
        return np.concatenate([grad_first, grad_second * 2])


def test_user_defined_function():
    x = soma.tensor([1.0, -2.0], dtype=soma.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn is not None and "Cube" in repr(y.grad_fn)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert gradcheck(Cube.apply, (soma.randn(4, dtype=soma.float64, requires_grad=True),))


def test_multi_output_function_and_unused_output():
    x = soma.tensor([1.0, 2.0, 3.0, 4.0], dtype=soma.float64, requires_grad=True)
    first, second = SplitHalves.apply(x)
    second.sum().backward()  # first is unused: it gets a zero gradient
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 2, 2])
    assert gradcheck(lambda t: SplitHalves.apply(t), (x,))


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # wrong: should be 2x

    x = soma.randn(3, dtype=soma.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(WrongSquare.apply, (x,))
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, (soma.randn(3, requires_grad=True),))


def test_autograd_grad_matches_torch_and_leaves_grad_untouched():
    data = np.random.default_rng(0).standard_normal(4)
    x = soma.tensor(data, requires_grad=True)
    (gx,) = (soma.autograd.grad((x.sin() * x).sum(), [x]),)
    tx = torch.tensor(data, requires_grad=True)
    (tgx,) = torch.autograd.grad((tx.sin() * tx).sum(), [tx])
    np.testing.assert_allclose(gx[0].numpy(), tgx.numpy(), rtol=1e-12)
    assert x.grad is None


def test_detect_anomaly_names_the_op():
    x = soma.tensor([-1.0, 1.0], requires_grad=True)
    with soma.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Sqrt produced nan in its forward pass.*shape=\(2,\)"):
            x.sqrt()
        y = soma.tensor([0.0, 1.0], requires_grad=True)
        z = y.sqrt().sum()  # forward fine; backward divides by zero
        with pytest.raises(RuntimeError, match="SqrtBackward0 produced inf in its backward pass"):
            z.backward()


def test_variable_is_pytorchs_old_name_for_a_tensor_that_may_require_grad():
    import warnings

    from soma.autograd import Variable

    base = soma.ones(2, requires_grad=True) * 2
    v = Variable(base, requires_grad=True)
    assert v is not base and v.is_leaf and v.requires_grad and isinstance(base, Variable)
    v.data[0] = 5.0  # the same memory as base, as in PyTorch
    assert base.tolist() == [5.0, 2.0] and not Variable(base).requires_grad
    assert tuple(Variable().shape) == (0,) and not isinstance([1], Variable)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1, 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Variable(soma.zeros(1), volatile=True)
    assert any("volatile was removed" in str(w.message) for w in caught)

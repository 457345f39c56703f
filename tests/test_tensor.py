"""Tensor creation, dtypes, conversion, printing, comparisons and error messages."""

import numpy as np
import pytest
import torch

import soma


@pytest.mark.parametrize(
    "data",
    [[1.0, 2.0], [1, 2], [True, False], 3.5, 7, [[1, 2], [3, 4]], np.array([1.0, 2.0]),
     np.array([1, 2], dtype=np.int32), np.array([1.0], dtype=np.float32)],
)
def test_tensor_dtype_inference_matches_torch(data):
    s, t = soma.tensor(data), torch.tensor(data)
    assert str(s.dtype) == str(t.dtype).replace("torch.", "")
    np.testing.assert_array_equal(s.numpy(), t.numpy())


def test_factories_match_torch_dtypes_and_values():
    assert soma.zeros(2, 3).shape == (2, 3) and soma.zeros((2, 3)).dtype == soma.float32
    assert soma.ones(2, dtype=soma.float64).dtype == soma.float64
    np.testing.assert_array_equal(soma.arange(5).numpy(), torch.arange(5).numpy())
    assert soma.arange(5).dtype == soma.int64 and soma.arange(0.0, 1.0, 0.25).dtype == soma.float32
    np.testing.assert_allclose(soma.linspace(0, 1, 5).numpy(), torch.linspace(0, 1, 5).numpy())
    np.testing.assert_array_equal(soma.eye(3, 2).numpy(), torch.eye(3, 2).numpy())
    assert soma.full((2, 2), 7).dtype == soma.int64 and soma.full((2,), 1.5).dtype == soma.float32
    x = soma.randn(3, 4, dtype=soma.float64)
    for like in (soma.zeros_like, soma.ones_like, soma.rand_like, soma.randn_like, soma.empty_like):
        y = like(x)
        assert y.shape == x.shape and y.dtype == soma.float64


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3, dtype=np.float32)
    shared, copied = soma.from_numpy(a), soma.tensor(a)
    a[0] = 1
    assert shared[0].item() == 1 and copied[0].item() == 0


def test_manual_seed_makes_random_calls_repeatable():
    soma.manual_seed(123)
    first = (soma.rand(3).numpy(), soma.randn(2, 2).numpy(), soma.randint(0, 10, (4,)).numpy())
    soma.manual_seed(123)
    second = (soma.rand(3).numpy(), soma.randn(2, 2).numpy(), soma.randint(0, 10, (4,)).numpy())
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    state = soma.get_rng_state()
    after = soma.randn(5).numpy()
    soma.set_rng_state(state)
    np.testing.assert_array_equal(soma.randn(5).numpy(), after)


def test_random_distributions():
    soma.manual_seed(0)
    u = soma.rand(100_000).numpy()
    n = soma.randn(100_000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01
    r = soma.randint(3, 7, (10_000,)).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6}
    assert sorted(soma.randperm(6).tolist()) == list(range(6))


def test_conversions():
    x = soma.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]] and soma.tensor(3.0).item() == 3.0
    assert float(soma.tensor([2.5])) == 2.5 and int(soma.tensor(3)) == 3
    assert np.asarray(x).shape == (1, 2) and len(x) == 1
    with pytest.raises(RuntimeError, match="requires grad"):
        soma.tensor([1.0], requires_grad=True).numpy()
    with pytest.raises(ValueError, match="cannot be converted"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(soma.tensor([1.0, 2.0]))
    assert x.double().dtype == soma.float64 and x.long().dtype == soma.int64
    assert x.to(soma.float64).dtype == soma.float64 and x.float() is x
    assert [t.tolist() for t in soma.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


def test_repr_looks_like_torch():
    assert repr(soma.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(soma.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=<MulBackward0>" in repr(soma.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=soma.float64" in repr(soma.tensor([1.0], dtype=soma.float64))


def test_comparisons_and_logic_give_bool_tensors():
    a, b = soma.tensor([1.0, 2.0, 3.0]), soma.tensor([3.0, 2.0, 1.0])
    assert (a < b).tolist() == [True, False, False]
    assert (a == b).tolist() == [False, True, False] and (a != 2).tolist() == [True, False, True]
    assert ((a > 1) & (b > 1)).tolist() == [False, True, False]
    assert (~(a >= 2)).tolist() == [True, False, False]
    assert (a > 1).dtype == soma.bool and not (a > 1).requires_grad


def test_integer_division_gives_float32_like_torch():
    assert (soma.tensor([1, 2]) / 2).dtype == soma.float32
    assert (soma.tensor([1.0], dtype=soma.float32) * 2.5).dtype == soma.float32
    assert (soma.tensor([1.0], dtype=soma.float64) + soma.tensor([1.0])).dtype == soma.float64


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: soma.ones(2, 3) + soma.ones(4), r"add: .* \(shapes \(2, 3\) and \(4,\)\)"),
        (lambda: soma.ones(2, 3) * soma.ones(2, 2), r"mul: .* \(shapes \(2, 3\) and \(2, 2\)\)"),
        (lambda: soma.ones(2, 3) @ soma.ones(2, 3), r"matmul: shapes \(2, 3\) and \(2, 3\)"),
        (lambda: soma.ones(2, 3).reshape(4, 2), r"reshape: shape \[4, 2\] is invalid .* \(2, 3\)"),
        (lambda: soma.cat([soma.ones(2, 3), soma.ones(3, 2)], 0), r"cat: .* \(2, 3\) and \(3, 2\)"),
        (lambda: soma.stack([soma.ones(2), soma.ones(3)]), r"stack: .* \(2,\) and \(3,\)"),
        (lambda: soma.ones(2, 3).sum(2), r"sum: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
        (lambda: soma.ones(2, 3).permute(0, 0), r"permute"),
        (lambda: soma.ones(2, 3).expand(4, 3), r"expand: a tensor of shape \(2, 3\)"),
        (lambda: soma.ones(2, 3)[5], r"index 5 is invalid for a tensor of shape \(2, 3\)"),
    ],
)
def test_errors_name_the_op_and_shapes(call, pattern):
    with pytest.raises((ValueError, RuntimeError, IndexError), match=pattern):
        call()


def test_mean_of_integers_is_an_error_like_torch():
    with pytest.raises(RuntimeError, match="floating point"):
        soma.tensor([1, 2]).mean()
    assert soma.tensor([True, True]).sum().item() == 2

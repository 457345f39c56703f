"""What a tensor says about itself, as PyTorch's: flags, storage offsets, conj/real/imag of real tensors,
sum_to_size, the deprecated x.new(...), apply_, retains_grad."""

import numpy as np
import pytest
import torch

import soma


def both(build):
    return build(soma), build(torch)


def _same(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    elif isinstance(theirs, torch.Size):
        assert tuple(ours) == tuple(theirs)
    else:
        assert ours == theirs


@pytest.mark.parametrize("query", [
    lambda x: x.is_complex(), lambda x: x.is_same_size(x[:1]), lambda x: x.is_same_size(x * 1), lambda x: x.get_device(),
    lambda x: x[1:].storage_offset(), lambda x: x[:, 2:].storage_offset(), lambda x: x.T.storage_offset(),
    lambda x: x.is_pinned(), lambda x: x.is_sparse, lambda x: x.is_quantized, lambda x: x.is_meta,
    lambda x: x.is_nested, lambda x: x.is_conj(), lambda x: x.conj(), lambda x: x.real, lambda x: x.isreal(),
    lambda x: x.resolve_conj(), lambda x: x.resolve_neg(), lambda x: x.mH, lambda x: x.H, lambda x: x.adjoint(),
    lambda x: x.cfloat().dtype == x.new_zeros(1).cfloat().dtype, lambda x: x.sum_to_size(1, 4),
    lambda x: x.sum_to_size(4), lambda x: x.sum_to_size(3, 1), lambda x: x.split_with_sizes([1, 2])[1],
    lambda x: x.new(2, 3).shape, lambda x: x.new(x[:2].shape).shape, lambda x: x.new([1, 2]), lambda x: x.new().shape,
    lambda x: x.clone().apply_(lambda v: v * 2 + 1), lambda x: x.retains_grad, lambda x: x.output_nr,
    lambda x: x.T.dim_order(), lambda x: x.dim_order(), lambda x: x.share_memory_() is x,
])
def test_queries_answer_as_torch(query):
    ours, theirs = both(lambda lib: lib.arange(12.0).reshape(3, 4))
    _same(query(ours), query(theirs))


def test_retains_grad_after_retain_grad_and_sum_to_size_gradient():
    for lib in (soma, torch):
        leaf = lib.ones(2, 3, requires_grad=True)
        hidden = leaf * 2
        assert not leaf.retains_grad and not hidden.retains_grad
        hidden.retain_grad()
        assert hidden.retains_grad
    ours, theirs = both(lambda lib: lib.arange(6.0).reshape(2, 3).requires_grad_())
    for x in (ours, theirs):
        (x.sum_to_size(1, 3) * x.new_tensor([[1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_errors_as_torch():
    x = soma.zeros(3, 4)
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        x.imag  # noqa: B018  (the property raises)
    with pytest.raises(RuntimeError, match=r"size \[2, 4\] is not expandable to size \[3, 4\]"):
        x.sum_to_size(2, 4)
    with pytest.raises(RuntimeError, match="requires grad"):
        soma.zeros(2, requires_grad=True).apply_(abs)


def test_complex_tensors_have_parts():
    z = soma.tensor(np.array([1 + 2j, 3 - 1j], dtype=np.complex64))
    assert z.is_complex() and z.real.tolist() == [1.0, 3.0] and z.imag.tolist() == [2.0, -1.0]
    assert z.conj().imag.tolist() == [-2.0, 1.0] and z.isreal().tolist() == [False, False]


def test_slice_scatter_addbmm_and_their_top_level_forms_match_torch():
    from tests.helpers import check_against_torch

    rng = np.random.default_rng(0)
    a, s = rng.standard_normal((4, 5)), rng.standard_normal((4, 2))
    b1, b2 = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 2, 5))
    check_against_torch(lambda x, y: x.slice_scatter(y, dim=1, start=1, end=5, step=2),
                        lambda x, y: x.slice_scatter(y, dim=1, start=1, end=5, step=2), [a, s])
    check_against_torch(lambda x, y: soma.slice_scatter(x, y.T, 0, 2), lambda x, y: torch.slice_scatter(
        x, y.T, 0, 2), [a[:4, :4], s])
    check_against_torch(lambda x, p, q: soma.addbmm(x, p, q, beta=0.5, alpha=2),
                        lambda x, p, q: torch.addbmm(x, p, q, beta=0.5, alpha=2), [a, b1, b2])
    check_against_torch(lambda x: x.hardshrink(0.3), lambda x: x.hardshrink(0.3), [a])
    for name in ("conj", "resolve_conj", "resolve_neg", "adjoint", "real"):
        check_against_torch(getattr(soma, name), getattr(torch, name), [a])
    assert soma.get_device(soma.zeros(1)) == torch.get_device(torch.zeros(1)) == -1
    assert [tuple(t.shape) for t in soma.unsafe_split(soma.zeros(5, 2), 2)] == [(2, 2), (2, 2), (1, 2)]

"""Distances and similarities (F.pairwise_distance, F.cosine_similarity, F.pdist, F.normalize, their modules and
soma.* names) against PyTorch: values, dtypes, input gradients, broadcasting, tiny norms, ties, bad input."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, check_second_derivatives, raises_like_torch, random_array
from soma.autograd import gradcheck

TF = torch.nn.functional
PS = [1, 2, 3, 1.5, 0.5, float("inf")]


@pytest.mark.parametrize("p", PS + [-1.0, 0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", [((5, 4), (5, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((4,), (4,)), ((), ())])
def test_pairwise_distance_matches_torch(shapes, dtype, p):
    a, b = random_array(shapes[0], dtype, seed=1), random_array(shapes[1], dtype, seed=2)
    check_against_torch(lambda x, y: F.pairwise_distance(x, y, p), lambda x, y: TF.pairwise_distance(x, y, p), [a, b])


@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_eps_keepdim_and_equal_inputs(keepdim):
    a = random_array((3, 5), seed=3)
    # equal rows: ε inside the norm gives ε·√n and a finite gradient
    check_against_torch(lambda x, y: F.pairwise_distance(x, y, 2, 1e-3, keepdim),
                        lambda x, y: TF.pairwise_distance(x, y, 2, 1e-3, keepdim), [a, a.copy()])
    out = F.pairwise_distance(soma.tensor([1, 2]), soma.tensor([3, 5]))  # integers: ε makes them float32
    ref = TF.pairwise_distance(torch.tensor([1, 2]), torch.tensor([3, 5]))
    assert out.dtype == soma.float32 and np.allclose(out.numpy(), ref.numpy())
    empty = F.pairwise_distance(soma.zeros(0, 3), soma.zeros(0, 3), keepdim=keepdim)
    assert tuple(empty.shape) == tuple(TF.pairwise_distance(torch.zeros(0, 3), torch.zeros(0, 3), keepdim=keepdim).shape)


@pytest.mark.parametrize("eps", [1e-3, 1e-8])
def test_cosine_similarity_floors_each_norm_as_torch_at_tiny_norms(eps):
    # PyTorch 2.13 floors ‖x₁‖ and ‖x₂‖ at ε one by one (not their product) and lets the gradient pass the floor
    x1 = np.array([[1e-5, 0.0], [0.0, 0.0], [3.0, 4.0], [1e-4, 2e-4]])
    x2 = np.array([[2e-5, 1e-5], [1.0, 1.0], [1e-9, 0.0], [-3e-4, 1e-4]])
    check_against_torch(lambda a, b: F.cosine_similarity(a, b, eps=eps),
                        lambda a, b: TF.cosine_similarity(a, b, eps=eps), [x1, x2])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes,dim", [(((4, 5), (4, 5)), 1), (((3, 1, 4), (5, 4)), -1), (((2, 3, 4), (2, 3, 4)), 0),
                                        (((6,), (6,)), 0), (((2, 4, 3), (1, 4, 1)), 1)])
def test_cosine_similarity_matches_torch(shapes, dim, dtype):
    a, b = random_array(shapes[0], dtype, seed=4), random_array(shapes[1], dtype, seed=5)
    check_against_torch(lambda x, y: F.cosine_similarity(x, y, dim), lambda x, y: TF.cosine_similarity(x, y, dim),
                        [a, b])


def test_cosine_similarity_dtypes_and_empty():
    mixed = F.cosine_similarity(soma.tensor([1, 2]), soma.tensor([1.0, 3.0]), dim=0)
    ref = TF.cosine_similarity(torch.tensor([1, 2]), torch.tensor([1.0, 3.0]), dim=0)
    assert mixed.dtype == soma.float32 and np.allclose(mixed.numpy(), ref.numpy())
    wide = F.cosine_similarity(soma.randn(3, 4), soma.randn(3, 4, dtype=soma.float64))
    assert wide.dtype == soma.float64
    for shape in ((0, 4), (3, 0)):
        out = F.cosine_similarity(soma.zeros(*shape), soma.zeros(*shape))
        ref = TF.cosine_similarity(torch.zeros(*shape), torch.zeros(*shape))
        assert tuple(out.shape) == tuple(ref.shape) and np.array_equal(out.numpy(), ref.numpy())


def test_cosine_similarity_second_derivatives_match_torch():
    a, b = random_array((3, 4), seed=6), random_array((3, 4), seed=7)
    a[0] *= 1e-9  # a floored norm: its straight-through gradient differentiates again as PyTorch's
    s = [soma.tensor(v, requires_grad=True) for v in (a, b)]
    t = [torch.tensor(v, requires_grad=True) for v in (a, b)]
    (sg,) = soma.autograd.grad(F.cosine_similarity(*s, eps=1e-6).sum(), s[0], create_graph=True)
    (tg,) = torch.autograd.grad(TF.cosine_similarity(*t, eps=1e-6).sum(), t[0], create_graph=True)
    w = random_array((3, 4), seed=8)
    check_second_derivatives((sg * soma.tensor(w)).sum(), (tg * torch.tensor(w)).sum(), s, t)


@pytest.mark.parametrize("p", PS + [0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pdist_matches_torch(p, dtype):
    check_against_torch(lambda x: F.pdist(x, p), lambda x: TF.pdist(x, p), [random_array((6, 3), dtype, seed=9)])


@pytest.mark.parametrize("p", PS + [0])
def test_pdist_ties_and_zero_distances_get_torchs_gradient(p):
    # repeated rows (distance 0), a zero component (p < 1) and tied largest components (p = inf: each gets it all)
    x = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 3.0], [1.0, 1.0], [2.0, -1.0]])
    check_against_torch(lambda t: F.pdist(t, p), lambda t: TF.pdist(t, p), [x])


@pytest.mark.parametrize("shape", [(1, 3), (0, 3), (4, 0)])
def test_pdist_degenerate_shapes(shape):
    out, ref = F.pdist(soma.zeros(*shape)), TF.pdist(torch.zeros(*shape))
    assert tuple(out.shape) == tuple(ref.shape) and np.array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_normalize_matches_torch(p, dim):
    x = random_array((4, 5), seed=10)
    x[2] = 0.0  # a zero vector (along dim 1): the floor ε, and a gradient of 1/ε
    check_against_torch(lambda t: F.normalize(t, p, dim), lambda t: TF.normalize(t, p, dim), [x])
    check_against_torch(lambda t: F.normalize(t, p, dim), lambda t: TF.normalize(t, p, dim),
                        [x.astype(np.float32)])


def test_normalize_out_and_defaults():
    x = random_array((2, 3), np.float32, seed=11)
    out, ref = soma.empty(2, 3), torch.empty(2, 3)
    assert F.normalize(soma.tensor(x), out=out) is out
    TF.normalize(torch.tensor(x), out=ref)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    check_against_torch(lambda t: F.normalize(t, dim=0), lambda t: TF.normalize(t, dim=0), [random_array((5,), seed=1)])


@pytest.mark.parametrize("name", ["pairwise_distance", "cosine_similarity", "pdist3", "pdist_inf", "normalize"])
def test_gradcheck(name):
    x, y = (soma.tensor(random_array((4, 3), seed=s), requires_grad=True) for s in (12, 13))
    fn = {"pairwise_distance": lambda: gradcheck(lambda a, b: F.pairwise_distance(a, b, 3), (x, y)),
          "cosine_similarity": lambda: gradcheck(lambda a, b: F.cosine_similarity(a, b, 0), (x, y)),
          "pdist3": lambda: gradcheck(lambda a: F.pdist(a, 3), (x,)),
          "pdist_inf": lambda: gradcheck(lambda a: F.pdist(a, float("inf")), (x,)),
          "normalize": lambda: gradcheck(lambda a: F.normalize(a, 1.5), (x,))}[name]
    assert fn()


def test_modules_match_torch():
    a, b = random_array((4, 6), np.float32, seed=14), random_array((4, 6), np.float32, seed=15)
    for ours, theirs in [(nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
                         (nn.PairwiseDistance(1, 1e-3, True), torch.nn.PairwiseDistance(1, 1e-3, True)),
                         (nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
                         (nn.CosineSimilarity(0, 1e-4), torch.nn.CosineSimilarity(0, 1e-4))]:
        check_against_torch(ours, theirs, [a, b])
        assert repr(ours) == repr(theirs)
        assert {k: v for k, v in vars(ours).items() if k in theirs.__constants__} == \
            {k: getattr(theirs, k) for k in theirs.__constants__}


def test_top_level_names_are_the_functional_ones():
    assert soma.pdist is F.pdist and soma.cosine_similarity is F.cosine_similarity
    assert soma.pairwise_distance is F.pairwise_distance


BAD = {
    "pairwise broadcast": lambda lib: lib.nn.functional.pairwise_distance(lib.ones(3, 4), lib.ones(2, 4)),
    "pairwise inf empty": lambda lib: lib.nn.functional.pairwise_distance(lib.ones(3, 0), lib.ones(3, 0), float("inf")),
    "cosine integers": lambda lib: lib.nn.functional.cosine_similarity(lib.tensor([1, 2]), lib.tensor([1, 2]), dim=0),
    "cosine broadcast": lambda lib: lib.nn.functional.cosine_similarity(lib.ones(3, 4), lib.ones(2, 4)),
    "cosine dim": lambda lib: lib.nn.functional.cosine_similarity(lib.ones(3, 4), lib.ones(3, 4), dim=2),
    "cosine 1-d default dim": lambda lib: lib.nn.functional.cosine_similarity(lib.ones(4), lib.ones(4)),
    "pdist 1-d": lambda lib: lib.nn.functional.pdist(lib.ones(3)),
    "pdist 3-d": lambda lib: lib.nn.functional.pdist(lib.ones(2, 3, 4)),
    "pdist integers": lambda lib: lib.nn.functional.pdist(lib.tensor([[1, 2], [3, 4]])),
    "pdist negative p": lambda lib: lib.nn.functional.pdist(lib.ones(3, 2), -1),
    "normalize integers": lambda lib: lib.nn.functional.normalize(lib.tensor([[1, 2]])),
    "normalize dim": lambda lib: lib.nn.functional.normalize(lib.ones(4)),
    "normalize out with grad": lambda lib: lib.nn.functional.normalize(lib.ones(2, 2, requires_grad=True),
                                                                      out=lib.empty(2, 2)),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_like_torch(name):
    raises_like_torch(BAD[name])


def test_errors_name_the_function_and_shapes():
    with pytest.raises(RuntimeError, match=r"pdist.*2D.*\(2, 3, 4\)"):
        F.pdist(soma.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="cosine_similarity.*floating point"):
        F.cosine_similarity(soma.tensor([1, 2]), soma.tensor([1, 2]), dim=0)
    with pytest.raises(TypeError, match="pairwise_distance.*x2"):
        F.pairwise_distance(soma.ones(2), [1.0, 2.0])


def test_pdist_has_no_second_derivative_as_torch():
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.pdist(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        g.sum().backward()
    xs = soma.tensor(x.detach().numpy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="higher-order"):
        soma.autograd.grad(soma.pdist(xs).sum(), xs, create_graph=True)

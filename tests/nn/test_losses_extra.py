"""The margin, embedding, triplet and likelihood losses against PyTorch: values, dtypes, input and target
gradients for every reduction (float64 at 1e-10, float32 at 1e-5), float64 gradchecks, modules, errors."""

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
from helpers import check_against_torch, check_module_against_torch, raises_like_torch, random_array
from soma.autograd import gradcheck

TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float64, np.float32]


def _signs(shape, seed=0, values=(1, -1)):
    return np.random.default_rng(seed).choice(values, shape)


def _classes(shape, classes, seed=0):
    return np.random.default_rng(seed).integers(0, classes, shape)


def _both(name, **kwargs):
    """(soma's F.name, torch's F.name), each with ``kwargs``."""
    return (lambda *a: getattr(F, name)(*a, **kwargs)), (lambda *a: getattr(TF, name)(*a, **kwargs))


# ------------------------------------------------------------------ ranking and hinge embedding
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss(reduction, dtype, margin):
    x1, x2 = random_array((7,), dtype, seed=1), random_array((7,), dtype, seed=2)
    y = _signs((7,)).astype(dtype)  # a float target is differentiated too, in both
    check_against_torch(*_both("margin_ranking_loss", margin=margin, reduction=reduction), [x1, x2, y])


def test_margin_ranking_loss_broadcasts_and_refuses_other_ranks():
    x1, x2, y = random_array((4, 1), seed=1), random_array((1, 3)), _signs((4, 3)).astype(np.float64)
    check_against_torch(*_both("margin_ranking_loss", reduction="none"), [x1, x2, y])
    raises_like_torch(lambda m: m.nn.functional.margin_ranking_loss(m.zeros(3), m.zeros(3), m.ones(1, 3)))
    raises_like_torch(lambda m: m.nn.functional.margin_ranking_loss(m.zeros(3), m.zeros(4), m.ones(3)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.0, 2.5])
def test_hinge_embedding_loss(reduction, dtype, margin):
    x = random_array((3, 5), dtype) * 2
    y = _signs((3, 5), values=(1, -1, 0)).astype(dtype)  # a label that is neither gets both terms
    check_against_torch(*_both("hinge_embedding_loss", margin=margin, reduction=reduction), [x, y])


# ------------------------------------------------------------------ cosine embedding
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
def test_cosine_embedding_loss(reduction, dtype, margin):
    x1, x2 = random_array((6, 4), dtype, seed=1), random_array((6, 4), dtype, seed=2)
    x1[0] = 0  # a zero vector: cos = 0 through PyTorch's ε in each squared magnitude
    y = _signs((6,))
    check_against_torch(*_both("cosine_embedding_loss", margin=margin, reduction=reduction), [x1, x2, y])


def test_cosine_embedding_loss_single_pair_and_shape_errors():
    check_against_torch(*_both("cosine_embedding_loss", reduction="none"),
                        [random_array((5,), seed=1), random_array((5,), seed=2), np.array(-1)])
    for a, b, y in [((3, 4), (3, 4), (3, 1)), ((3, 4), (3, 4), ()), ((4,), (4,), (1,)), ((3, 4), (4,), (3,))]:
        raises_like_torch(lambda m, a=a, b=b, y=y: m.nn.functional.cosine_embedding_loss(m.ones(*a), m.ones(*b), m.ones(*y)))


# ------------------------------------------------------------------ triplets
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"swap": True}, {"p": 1, "margin": 0.5}, {"p": 3.0, "eps": 1e-3},
                                     {"p": float("inf"), "swap": True}])
def test_triplet_margin_loss(reduction, dtype, options):
    a, p, n = (random_array((5, 3), dtype, seed=s) for s in (1, 2, 3))
    n[1] = p[1] + 0.1  # a positive nearer the negative than the anchor is: swap takes d(p, n)
    check_against_torch(*_both("triplet_margin_loss", reduction=reduction, **options), [a, p, n])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(reduction, swap):
    a, p, n = (random_array((4, 6), seed=s) for s in (1, 2, 3))
    check_against_torch(*_both("triplet_margin_with_distance_loss", swap=swap, reduction=reduction), [a, p, n])

    def cosine_distance(module):
        return lambda x, y: 1 - module.nn.functional.cosine_similarity(x, y)

    check_against_torch(
        lambda *t: F.triplet_margin_with_distance_loss(*t, distance_function=cosine_distance(soma), margin=0.4,
                                                       swap=swap, reduction=reduction),
        lambda *t: TF.triplet_margin_with_distance_loss(*t, distance_function=cosine_distance(torch), margin=0.4,
                                                        swap=swap, reduction=reduction),
        [a, p, n])


@pytest.mark.parametrize("name", ["triplet_margin_loss", "triplet_margin_with_distance_loss"])
def test_triplet_losses_refuse_what_pytorch_refuses(name):
    raises_like_torch(lambda m: getattr(m.nn.functional, name)(m.ones(2, 3), m.ones(3), m.ones(2, 3)))
    raises_like_torch(lambda m: getattr(m.nn.functional, name)(m.ones(2, 3), m.ones(2, 3), m.ones(2, 3), margin=0.0))
    raises_like_torch(lambda m: m.nn.functional.triplet_margin_with_distance_loss(
        m.ones(2, 3), m.ones(2, 3), m.ones(2, 3), reduction="batchmean"))
    for cls in ("TripletMarginLoss", "TripletMarginWithDistanceLoss"):
        raises_like_torch(lambda m, cls=cls: getattr(m.nn, cls)(margin=-1.0))


# ------------------------------------------------------------------ multi-label soft margin, multi margin, multi-label margin
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted", [((5, 4), False), ((5, 4), True), ((4,), True)])
def test_multilabel_soft_margin_loss(reduction, dtype, shape, weighted):
    x = random_array(shape, dtype) * 3
    y = _signs(shape, values=(0, 1)).astype(dtype)
    w = random_array(shape[-1:], dtype, low=0.2, high=2) if weighted else None

    def run(f, module):
        return lambda x, y: f(x, y, weight=None if w is None else module.tensor(w), reduction=reduction)

    check_against_torch(run(F.multilabel_soft_margin_loss, soma), run(TF.multilabel_soft_margin_loss, torch), [x, y])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 1.0, False), (1, 0.0, True), (2, 0.6, True)])
@pytest.mark.parametrize("shapes", [((6, 4), (6,)), ((4,), ()), ((4,), (1,))])
def test_multi_margin_loss(reduction, dtype, p, margin, weighted, shapes):
    x_shape, y_shape = shapes
    x = random_array(x_shape, dtype)
    y = _classes(y_shape, x_shape[-1])
    w = random_array(x_shape[-1:], dtype, low=0.2, high=2) if weighted else None

    def run(f, module):
        weight = None if w is None else module.tensor(w)
        return lambda x, y: f(x, y, p=p, margin=margin, weight=weight, reduction=reduction)

    check_against_torch(run(F.multi_margin_loss, soma), run(TF.multi_margin_loss, torch), [x, y])


def test_multi_margin_loss_refuses_what_pytorch_refuses():
    f = "multi_margin_loss"
    for x, y, kwargs in [((3, 4), [0, 1, 4], {}), ((3, 4), [0, 1], {}), ((3, 4), [[0], [1], [2]], {}),
                         ((3, 0), [0, 0, 0], {}), ((2, 3, 4), [0, 1], {}), ((3, 4), [0, 1, 2], {"p": 3}),
                         ((3, 4), [0, 1, 2], {"weight": (4, 1)}), ((3, 4), [0, 1, 2], {"weight": (3,)}),
                         ((3, 4), [0, 1, 2], {"weight": (4,), "float64": True})]:
        def call(m, x=x, y=y, given=kwargs):
            kwargs = dict(given)
            if "weight" in kwargs:
                kwargs["weight"] = m.ones(*kwargs["weight"], dtype=m.float64 if kwargs.pop("float64", 0) else None)
            return getattr(m.nn.functional, f)(m.zeros(*x), m.tensor(y), **kwargs)

        raises_like_torch(call)
    raises_like_torch(lambda m: m.nn.functional.multi_margin_loss(m.zeros(2, 3, dtype=m.int64), m.tensor([0, 1])))
    raises_like_torch(lambda m: m.nn.MultiMarginLoss(p=0))
    raises_like_torch(lambda m: m.nn.MultiMarginLoss(weight=m.ones(2, 2)))


def _label_lists(frames, classes, seed=0):
    """Rows of class indices padded with -1 (some with repeats, one empty, one full, junk after the -1)."""
    rng = np.random.default_rng(seed)
    rows = np.full((frames, classes), -1)
    for i in range(frames):
        k = [0, classes, 2, 1, 3][i % 5]
        rows[i, :k] = rng.integers(0, classes, k) if i % 5 == 3 else rng.permutation(classes)[:k]
        if k + 1 < classes:
            rows[i, k + 1] = rng.integers(0, classes)
    return rows


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (5,)])
def test_multilabel_margin_loss(reduction, dtype, shape):
    x = random_array(shape, dtype) * 0.5  # small scores: many pairs inside the margin
    y = _label_lists(int(np.prod(shape[:-1])), shape[-1]).reshape(shape)
    check_against_torch(*_both("multilabel_margin_loss", reduction=reduction), [x, y])


def test_multi_margin_losses_have_no_gradient_at_the_hinge():
    # z = margin - x_y + x_j = 0 exactly: PyTorch's kernels count only z > 0 (clamp_min's gradient would pass)
    x = np.array([[1.0, 1.0, 0.5, 2.0], [0.25, -0.75, 0.5, 0.25]])
    check_against_torch(*_both("multi_margin_loss", margin=0.0), [x, np.array([0, 3])])
    check_against_torch(*_both("multilabel_margin_loss"), [x, np.array([[3, 0, -1, 0], [2, -1, 0, 0]])])


def test_multi_margin_losses_skip_nan_and_keep_inf_as_pytorch():
    # a NaN hinge adds nothing (z > 0 is false); an infinite score left out of the sum stays out (no 0·inf)
    x = np.array([[np.nan, 1.0, 0.5, 2.0], [0.25, np.inf, 0.5, 0.25], [0.3, -0.2, 0.1, 0.0]])
    with np.errstate(invalid="ignore"):
        check_against_torch(*_both("multi_margin_loss", reduction="none"), [x, np.array([1, 1, 0])], grad=False)
        check_against_torch(*_both("multilabel_margin_loss", reduction="none"),
                            [x, np.array([[1, -1, 0, 0], [1, 2, -1, 0], [0, -1, 0, 0]])], grad=False)


@pytest.mark.parametrize("name", ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
                                  "triplet_margin_loss", "multilabel_soft_margin_loss", "gaussian_nll_loss",
                                  "poisson_nll_loss"])
def test_shapes_that_do_not_broadcast_are_refused_by_name(name):
    args = list(_arguments(name, soma))
    args[1] = soma.cat([args[1], args[1][:1]], 0)  # one row too many
    with pytest.raises(RuntimeError, match=name):
        getattr(F, name)(*args)
    raises_like_torch(lambda m: getattr(m.nn.functional, name)(
        *[m.tensor(a.numpy()) for a in args]))


def test_integer_inputs_as_pytorch():
    x, y = np.array([[1, 2, 3], [0, -1, 2]]), np.array([[1, -1, 1], [-1, 1, 1]])
    check_against_torch(*_both("hinge_embedding_loss", reduction="sum"), [x, y])  # int64, as PyTorch
    raises_like_torch(lambda m: m.nn.functional.hinge_embedding_loss(m.tensor(x), m.tensor(y)))
    raises_like_torch(lambda m: m.nn.functional.multilabel_soft_margin_loss(m.tensor(x), m.tensor(y)))


@pytest.mark.parametrize("name,labels", [("multi_margin_loss", (0,)), ("multilabel_margin_loss", (0, 4))])
def test_multi_margin_losses_take_an_empty_batch(name, labels):
    # PyTorch's mean and sum over no samples return uninitialized memory: only 'none' is compared; soma's sum is 0
    x, y = np.zeros((0, 4)), np.zeros(labels, dtype=np.int64)
    check_against_torch(*_both(name, reduction="none"), [x, y])
    assert getattr(F, name)(soma.tensor(x), soma.tensor(y), reduction="sum").item() == 0


def test_multilabel_margin_loss_refuses_what_pytorch_refuses():
    for x, y in [((2, 4), [[4, -1, 0, 0], [0, -1, 0, 0]]), ((2, 4), [[-2, -1, 0, 0], [0, -1, 0, 0]]),
                 ((2, 4), [[0, -1, 0, 0]]), ((2, 4), [0, 1, -1, 0, 0, 1, 2, -1]), ((4,), [0, -1, 1]),
                 ((2, 0), [[], []])]:
        raises_like_torch(lambda m, x=x, y=y: m.nn.functional.multilabel_margin_loss(
            m.zeros(*x), m.tensor(y, dtype=m.int64)))
    raises_like_torch(lambda m: m.nn.functional.multilabel_margin_loss(m.zeros(2, 2), m.zeros(2, 2)))


# ------------------------------------------------------------------ Gaussian and Poisson NLL
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3, 2), (4, 3), (4, 1, 2), (1, 3, 2), "float"])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(reduction, dtype, var_shape, full):
    x, y = random_array((4, 3, 2), dtype, seed=1), random_array((4, 3, 2), dtype, seed=2)
    if var_shape == "float":
        check_against_torch(*_both("gaussian_nll_loss", var=0.7, full=full, reduction=reduction), [x, y])
        return
    var = random_array(var_shape, dtype, seed=3, low=0.1, high=2)
    var.flat[0] = 1e-9  # clamped at eps: the gradient passes the clamp, as PyTorch's
    check_against_torch(*_both("gaussian_nll_loss", full=full, eps=1e-6, reduction=reduction), [x, y, var])


def test_gaussian_nll_loss_refuses_bad_variances():
    for var in [(4, 2), (4, 3, 3), (3, 2), (1, 1, 2)]:
        raises_like_torch(lambda m, var=var: m.nn.functional.gaussian_nll_loss(m.zeros(4, 3, 2), m.zeros(4, 3, 2),
                                                                               m.ones(*var)))
    raises_like_torch(lambda m: m.nn.functional.gaussian_nll_loss(m.zeros(3), m.zeros(3), -m.ones(3)))
    raises_like_torch(lambda m: m.nn.functional.gaussian_nll_loss(m.zeros(3), m.zeros(3), -1.0))
    raises_like_torch(lambda m: m.nn.functional.gaussian_nll_loss(m.zeros(3), m.zeros(3), m.ones(3),
                                                                  reduction="max"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True), (False, True)])
def test_poisson_nll_loss(reduction, dtype, log_input, full):
    x = random_array((3, 4), dtype) if log_input else random_array((3, 4), dtype, low=0.01, high=3)
    y = np.random.default_rng(1).poisson(2.0, (3, 4)).astype(dtype) + 0.25  # counts around and above 1
    check_against_torch(*_both("poisson_nll_loss", log_input=log_input, full=full, reduction=reduction), [x, y])


def test_poisson_nll_loss_zero_counts_and_eps():
    # y = 0 with the Stirling term: masked to 0 in value; the target's gradient is NaN there in both (0·ln 0)
    x, y = random_array((5,), low=0.0, high=2.0), np.array([0.0, 1.0, 2.0, 5.0, 0.0])
    x[0] = 0.0  # a zero rate: ln(0 + eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        check_against_torch(*_both("poisson_nll_loss", log_input=False, full=True, eps=1e-3), [x, y], grad=False)
    check_against_torch(lambda x: F.poisson_nll_loss(x, soma.tensor(y), log_input=False, full=True),
                        lambda x: TF.poisson_nll_loss(x, torch.tensor(y), log_input=False, full=True), [x])
    raises_like_torch(lambda m: m.nn.functional.poisson_nll_loss(m.zeros(3), m.zeros(3), reduction="avg"))


# ------------------------------------------------------------------ reductions, legacy arguments, gradchecks
LEGACY = ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
          "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss", "poisson_nll_loss"]


def _arguments(name, module, dtype=np.float64):
    """Inputs (tensors of ``module``) for ``name``: the floats first, then the labels."""
    t = module.tensor
    x, z = random_array((4, 3), dtype, seed=1), random_array((4, 3), dtype, seed=2)
    return {
        "margin_ranking_loss": lambda: (t(x[:, 0]), t(z[:, 0]), t(_signs((4,)).astype(dtype))),
        "hinge_embedding_loss": lambda: (t(x), t(_signs((4, 3)))),
        "cosine_embedding_loss": lambda: (t(x), t(z), t(_signs((4,)))),
        "triplet_margin_loss": lambda: (t(x), t(z), t(random_array((4, 3), dtype, seed=3))),
        "triplet_margin_with_distance_loss": lambda: (t(x), t(z), t(random_array((4, 3), dtype, seed=3))),
        "multilabel_soft_margin_loss": lambda: (t(x), t(_signs((4, 3), values=(0.0, 1.0)))),
        "multi_margin_loss": lambda: (t(x), t(_classes((4,), 3))),
        "multilabel_margin_loss": lambda: (t(x), t(_label_lists(4, 3))),
        "gaussian_nll_loss": lambda: (t(x), t(z), t(random_array((4, 1), dtype, seed=3, low=0.5, high=2))),
        "poisson_nll_loss": lambda: (t(x), t(np.abs(z) * 3)),
    }[name]()


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated:UserWarning")
@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_legacy_size_average_and_reduce(name, size_average, reduce):
    ours = getattr(F, name)(*_arguments(name, soma), size_average=size_average, reduce=reduce)
    theirs = getattr(TF, name)(*_arguments(name, torch), size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    raises_like_torch(lambda m: getattr(m.nn.functional, name)(*_arguments(name, m), reduction="batchmean"))


@pytest.mark.parametrize("name", ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
                                  "triplet_margin_loss", "triplet_margin_with_distance_loss",
                                  "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
                                  "gaussian_nll_loss", "poisson_nll_loss"])
def test_gradcheck(name):
    args = [a.requires_grad_() if a.dtype == soma.float64 else a for a in _arguments(name, soma)]
    floats = tuple(a for a in args if a.requires_grad)
    fn = getattr(F, name)

    def loss(*inputs):
        it = iter(inputs)
        return fn(*(next(it) if a.requires_grad else a for a in args), reduction="sum")

    assert gradcheck(loss, floats)


# ------------------------------------------------------------------ modules
MODULES = [
    ("MarginRankingLoss", dict(margin=0.2), "margin_ranking_loss"),
    ("HingeEmbeddingLoss", dict(margin=0.5), "hinge_embedding_loss"),
    ("CosineEmbeddingLoss", dict(margin=0.1), "cosine_embedding_loss"),
    ("TripletMarginLoss", dict(margin=0.7, p=1.0, swap=True), "triplet_margin_loss"),
    ("TripletMarginWithDistanceLoss", dict(margin=0.7, swap=True), "triplet_margin_with_distance_loss"),
    ("MultiLabelSoftMarginLoss", dict(weight=True), "multilabel_soft_margin_loss"),
    ("MultiMarginLoss", dict(p=2, margin=0.8, weight=True), "multi_margin_loss"),
    ("MultiLabelMarginLoss", {}, "multilabel_margin_loss"),
    ("GaussianNLLLoss", dict(full=True, eps=1e-4), "gaussian_nll_loss"),
    ("PoissonNLLLoss", dict(log_input=True, full=True), "poisson_nll_loss"),
]


@pytest.mark.parametrize("cls,kwargs,name", MODULES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_modules_against_torch(cls, kwargs, name, reduction):
    def build(module):
        options = dict(kwargs)
        if options.pop("weight", False):
            options["weight"] = module.ones(3, dtype=module.float64)  # randomized by the helper, as a buffer
        return getattr(module.nn, cls)(reduction=reduction, **options)

    ours, theirs = build(soma), build(torch)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    arrays = [a.numpy() for a in _arguments(name, soma)]
    check_module_against_torch(ours, theirs, arrays)
    assert repr(ours) == repr(theirs)

"""F.ctc_loss and nn.CTCLoss against PyTorch: values and gradients with respect to log_probs for every reduction,
padded and concatenated targets, unequal, zero and impossible lengths, zero_infinity, a non-zero blank, unbatched
input, float32; a gradcheck through log_softmax; PyTorch's errors."""

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
from helpers import check_against_torch, check_module_against_torch, raises_like_torch
from soma.autograd import gradcheck

TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]

# four samples: a repeated label (needs a blank between), a shorter input, labels around another one, and an
# empty target (the padding holds the blank, 0: labels never do, PyTorch's gradient is wrong where they do)
TARGETS = np.array([[1, 2, 2, 3], [3, 1, 0, 0], [4, 2, 4, 0], [0, 0, 0, 0]])
INPUT_LENGTHS, TARGET_LENGTHS = [9, 7, 5, 6], [4, 2, 3, 0]


def _log_probs(shape, dtype=np.float64, seed=0):
    logits = torch.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(dtype))
    return logits.log_softmax(-1).numpy()


def _both(**kwargs):
    return (lambda x, *a: F.ctc_loss(x, *a, **kwargs)), (lambda x, *a: TF.ctc_loss(x, *a, **kwargs))


def _run(log_probs, targets, input_lengths, target_lengths, as_tensors=False, **kwargs):
    """check_against_torch with the targets and lengths as constants of each framework."""
    def bind(f, module):
        lengths = [module.tensor(v) if as_tensors else v for v in (input_lengths, target_lengths)]
        return lambda x: f(x, module.tensor(targets), *lengths, **kwargs)

    return check_against_torch(bind(F.ctc_loss, soma), bind(TF.ctc_loss, torch), [log_probs])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_padded_targets(reduction, dtype, zero_infinity):
    _run(_log_probs((9, 4, 5), dtype), TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction=reduction,
         zero_infinity=zero_infinity)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_concatenated_targets_tensor_lengths_and_blank(reduction):
    flat = np.concatenate([row[:n] for row, n in zip(TARGETS, TARGET_LENGTHS)])
    lp = _log_probs((9, 4, 5), seed=1)
    _run(lp, flat, INPUT_LENGTHS, TARGET_LENGTHS, as_tensors=True, reduction=reduction)
    blank_last = np.where(TARGETS == 4, 0, TARGETS)  # blank=4: the labels use 0..3 (and 0 is a label)
    _run(lp, blank_last, INPUT_LENGTHS, TARGET_LENGTHS, blank=4, reduction=reduction)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_impossible_and_empty_alignments(zero_infinity):
    # [1, 1] needs 3 frames (1, blank, 1) and gets 2: an infinite loss (NaN gradient, as PyTorch's, unless
    # zero_infinity); a zero-length input with an empty target: a loss of 0; with a label: infinite
    targets, lengths = np.array([[1, 1], [2, 3], [1, 0], [3, 0]]), ([2, 4, 0, 0], [2, 2, 0, 1])
    with np.errstate(invalid="ignore"):
        out = _run(_log_probs((4, 4, 4), seed=2), targets, *lengths, reduction="none", zero_infinity=zero_infinity)
    assert np.isinf(out[0].detach().numpy()[[0, 3]]).all() != zero_infinity


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_unbatched(reduction):
    lp = _log_probs((6, 4), seed=3)
    _run(lp, np.array([2, 3, 3]), [6], [3], reduction=reduction)
    _run(lp, np.array([[2, 3, 3]]), np.array(5), np.array(2), as_tensors=True, reduction=reduction)  # padded


def test_ctc_loss_gradcheck_through_log_softmax():
    # PyTorch's CTC gradient is the logits' gradient (p - posterior), so a finite-difference check goes through
    # log_softmax, where it equals the partial derivative
    logits = soma.tensor(np.random.default_rng(4).standard_normal((5, 2, 4)), requires_grad=True)
    targets = soma.tensor([[1, 1], [2, 3]])
    assert gradcheck(lambda x: F.ctc_loss(F.log_softmax(x, 2), targets, [5, 4], [2, 1], reduction="sum"), (logits,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_module(reduction):
    ours, theirs = soma.nn.CTCLoss(blank=1, reduction=reduction, zero_infinity=True), torch.nn.CTCLoss(
        blank=1, reduction=reduction, zero_infinity=True)
    targets = np.array([[2, 3, 3], [0, 2, 0]])

    def wrap(module, framework):
        return lambda x: module(x, framework.tensor(targets), [6, 1], [3, 2])

    check_module_against_torch(type("Bound", (soma.nn.Module,), {"forward": lambda self, x: wrap(ours, soma)(x)})(),
                               type("Bound", (torch.nn.Module,), {"forward": lambda self, x: wrap(theirs, torch)(x)})(),
                               [_log_probs((6, 2, 4), seed=5)])
    assert repr(ours) == repr(theirs)


def test_ctc_loss_refuses_what_pytorch_refuses():
    lp, tg = (6, 2, 5), [[1, 2, 2], [3, 1, 0]]

    def ctc(m, shape=lp, targets=tg, il=(6, 4), tl=(3, 2), **kwargs):
        return m.nn.functional.ctc_loss(m.zeros(*shape), m.tensor(targets), list(il), list(tl), **kwargs)

    for kwargs in [dict(il=(7, 4)), dict(il=(6, -1)), dict(tl=(3, -1)), dict(tl=(4, 2)), dict(tl=(3,)),
                   dict(il=(6, 4, 1)), dict(blank=5), dict(blank=-1), dict(targets=[1, 2, 2, 3]),
                   dict(reduction="avg"), dict(shape=(6, 0, 5), targets=[[]], il=(), tl=()), dict(shape=(6,)),
                   dict(shape=(5,)), dict(shape=(6, 5), il=(6, 4))]:
        raises_like_torch(lambda m, kwargs=kwargs: ctc(m, **kwargs))
    raises_like_torch(lambda m: m.nn.functional.ctc_loss(m.zeros(*lp), m.tensor(tg), m.tensor([6.0, 4.0]),
                                                         m.tensor([3, 2])))
    raises_like_torch(lambda m: m.nn.functional.ctc_loss(m.zeros(*lp, dtype=m.int64), m.tensor(tg), [6, 4], [3, 2]))
    raises_like_torch(lambda m: m.nn.functional.ctc_loss(m.zeros(6, 5), m.tensor([1, 2]), 6, 2))

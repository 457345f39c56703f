"""Optimizer and scheduler arguments as PyTorch takes them: tensor learning rates train, bad arguments
raise PyTorch's exception type with a message naming the optimizer."""

import numpy as np
import pytest
import torch

import soma
from soma import optim

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]
EXTRA = {"SGD": dict(momentum=0.9), "RMSprop": dict(momentum=0.5, centered=True), "Adam": dict(amsgrad=True)}


def _train(make, steps=3):
    """A few steps on E = Σ (w - target)² · scale, from the same start; returns the final weights."""
    w = soma.nn.Parameter(soma.tensor(np.linspace(-1, 1, 5)))
    opt = make([w])
    target = soma.tensor(np.arange(5.0))
    for _ in range(steps):
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        opt.step()
    return w.detach().numpy()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_tensor_learning_rate_trains_as_the_float_one(name):
    cls, extra = getattr(optim, name), EXTRA.get(name, {})
    start = np.linspace(-1, 1, 5)
    with_float = _train(lambda p: cls(p, lr=float(np.float32(0.1)), **extra))  # soma.tensor(0.1) is float32
    with_tensor = _train(lambda p: cls(p, lr=soma.tensor(0.1), **extra))
    assert not np.allclose(with_float, start)  # it trained
    np.testing.assert_allclose(with_tensor, with_float, rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_tensor_learning_rate_matches_torch(name):
    extra = EXTRA.get(name, {})
    ours = _train(lambda p: getattr(optim, name)(p, lr=soma.tensor(0.05), **extra))
    w = torch.nn.Parameter(torch.tensor(np.linspace(-1, 1, 5)))
    opt = getattr(torch.optim, name)([w], lr=torch.tensor(0.05), **extra)
    for _ in range(3):
        opt.zero_grad()
        ((w - torch.arange(5.0, dtype=torch.float64)) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(ours, w.detach().numpy(), rtol=1e-7)  # torch's tensor lr is float32


def _both_raise(make_soma, make_torch, match):
    with pytest.raises(Exception) as theirs:
        make_torch()
    with pytest.raises(theirs.type, match=match):
        make_soma()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_bad_arguments_raise_torchs_errors(name):
    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    p, q = [soma.nn.Parameter(soma.ones(2))], [torch.nn.Parameter(torch.ones(2))]
    _both_raise(lambda: ours(p, lr=-1), lambda: theirs(q, lr=-1), f"{name}: invalid learning rate -1")
    _both_raise(lambda: ours(p, lr="fast"), lambda: theirs(q, lr="fast"), f"{name}: learning rate must be a number")
    _both_raise(lambda: ours(p, lr=soma.tensor([0.1, 0.2])), lambda: theirs(q, lr=torch.tensor([0.1, 0.2])),
                r"Tensor learning rate must be 1-element, got shape \(2,\)")
    _both_raise(lambda: ours([], lr=0.1), lambda: theirs([], lr=0.1), "empty parameter list")
    _both_raise(lambda: ours([1.0], lr=0.1), lambda: theirs([1.0], lr=0.1), "can only optimize Tensors.*float")
    _both_raise(lambda: ours(5, lr=0.1), lambda: theirs(5, lr=0.1), "iterable of Tensors or dicts, but got int")
    _both_raise(lambda: ours(p[0], lr=0.1), lambda: theirs(q[0], lr=0.1), "iterable of Tensors or dicts")
    _both_raise(lambda: ours([p[0] * 2], lr=0.1), lambda: theirs([q[0] * 2], lr=0.1), "non-leaf")
    _both_raise(lambda: ours([{"lr": 0.1}], lr=0.1), lambda: theirs([{"lr": 0.1}], lr=0.1), "'params' entry")


@pytest.mark.parametrize("betas,index", [((1.0, 0.9), 0), ((0.9, -0.1), 1), ((-0.5, 0.9), 0)])
def test_adam_betas_out_of_range(betas, index):
    p, q = [soma.nn.Parameter(soma.ones(2))], [torch.nn.Parameter(torch.ones(2))]
    for name in ("Adam", "AdamW"):
        _both_raise(lambda n=name: getattr(optim, n)(p, betas=betas),
                    lambda n=name: getattr(torch.optim, n)(q, betas=betas), f"beta parameter at index {index}")
    _both_raise(lambda: optim.Adam(p, eps=-1), lambda: torch.optim.Adam(q, eps=-1), "epsilon")
    _both_raise(lambda: optim.RMSprop(p, alpha=-1), lambda: torch.optim.RMSprop(q, alpha=-1), "alpha")


@pytest.mark.parametrize("name,args", [("StepLR", (3,)), ("ExponentialLR", (0.9,)), ("CosineAnnealingLR", (5,)),
                                       ("MultiStepLR", ([2],)), ("ReduceLROnPlateau", ())])
def test_scheduler_given_a_non_optimizer(name, args):
    p = soma.nn.Parameter(soma.ones(2))
    _both_raise(lambda: getattr(optim.lr_scheduler, name)("optimizer", *args),
                lambda: getattr(torch.optim.lr_scheduler, name)("optimizer", *args), "str is not an Optimizer")
    _both_raise(lambda: getattr(optim.lr_scheduler, name)([p], *args),
                lambda: getattr(torch.optim.lr_scheduler, name)([p], *args), "list is not an Optimizer")

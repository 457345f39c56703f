"""The optimized recurrent kernels against the reference cells (the equations in soma ops), what a node
keeps after backward, and higher-order gradients through RNN/LSTM/GRU (create_graph=True)."""

import functools
import types

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
from helpers import copy_weights_to_torch
from soma import nn
from soma.autograd import gradgradcheck
from soma.nn.functional import recurrent as R
from soma.nn.functional.recurrent import reference

T, B, I, H = 5, 3, 4, 6
MODULES = {
    "rnn_tanh": lambda **k: nn.RNN(**k),
    "rnn_relu": lambda **k: nn.RNN(nonlinearity="relu", **k),
    "lstm": lambda **k: nn.LSTM(**k),
    "gru": lambda **k: nn.GRU(**k),
}
CONFIGS = [
    dict(num_layers=2, bidirectional=True, batch_first=True, bias=True),
    dict(num_layers=3, bidirectional=False, batch_first=False, bias=False),
    dict(num_layers=1, bidirectional=True, batch_first=False, bias=True),
]


def _use_reference(monkeypatch):
    """Run nn.RNN/LSTM/GRU with every (layer, direction) kernel replaced by the reference unroll."""
    for name, mode in (("RNNLayer", "RNN"), ("LSTMLayer", "LSTM"), ("GRULayer", "GRU")):
        monkeypatch.setattr(R, name, types.SimpleNamespace(apply=functools.partial(reference.layer, mode)))


def _run(module, x, states, lengths):
    """Outputs and every gradient (input, initial states, each parameter) of a random projection."""
    for p in module.parameters():
        p.grad = None
    x = soma.tensor(x, requires_grad=True)
    states = [soma.tensor(s, requires_grad=True) for s in states]
    hx = None if not states else tuple(states) if len(states) == 2 else states[0]
    output, state = module(x, hx, lengths=lengths)
    outs = [output, *state] if isinstance(state, tuple) else [output, state]
    rng = np.random.default_rng(7)
    sum((o * soma.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs).backward()
    grads = [t.grad.numpy() for t in (x, *states)] + [p.grad.numpy() for p in module.parameters()]
    return [o.detach().numpy() for o in outs], grads


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("mode", list(MODULES))
def test_kernels_match_reference_cells(mode, config, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    module = MODULES[mode](input_size=I, hidden_size=H, dtype=np.float64, **config)
    shape = (B, T, I) if config["batch_first"] else (T, B, I)
    x = rng.standard_normal(shape)
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    states = [rng.standard_normal((layers, B, H)) for _ in range(2 if mode == "lstm" else 1)]
    states = states if seed == 0 else []  # seed 1: the default zero state
    lengths = None if seed == 0 else np.array([T, 2, 4])
    fast = _run(module, x, states, lengths)
    _use_reference(monkeypatch)
    slow = _run(module, x, states, lengths)
    for got, want in zip(fast[0] + fast[1], slow[0] + slow[1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_cells_match_reference_cells(mode):
    rng = np.random.default_rng(0)
    cell = (nn.LSTMCell if mode == "lstm" else nn.GRUCell)(I, H, dtype=np.float64)
    x = soma.tensor(rng.standard_normal((B, I)), requires_grad=True)
    h, c = (soma.tensor(rng.standard_normal((B, H)), requires_grad=True) for _ in range(2))
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    results = []
    for step in (cell, reference.lstm_cell if mode == "lstm" else reference.gru_cell):
        args = ((h, c),) if mode == "lstm" else (h,)
        out = step(x, *args) if step is cell else step(x, *args, *weights)
        out = out if isinstance(out, tuple) else (out,)
        grads = soma.autograd.grad(sum(o.sum() * (k + 1) for k, o in enumerate(out)), [x, h, c, *weights],
                                   allow_unused=True)
        results.append([o.detach().numpy() for o in out] + [None if g is None else g.numpy() for g in grads])
    for got, want in zip(*results, strict=True):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", list(MODULES))
def test_node_holds_no_arrays_after_backward(mode):
    module = MODULES[mode](input_size=I, hidden_size=H)
    output, _ = module(soma.randn(T, B, I, requires_grad=True))
    node = output.grad_fn
    assert isinstance(node, R.RecurrentLayer)
    assert node.saved_tensors  # the record is there until backward ...
    output.sum().backward()
    assert node.saved_tensors == ()  # ... and gone after it, with nothing left on the node
    left = {k: type(v).__name__ for k, v in vars(node).items() if isinstance(v, np.ndarray)}
    left.update({f"{k}[{i}]": "ndarray" for k, v in vars(node).items() if isinstance(v, (tuple, list))
                 for i, e in enumerate(v) if isinstance(e, np.ndarray)})
    assert not left, f"{node} still holds arrays: {left}"


def test_workspace_returns_to_pool_after_backward():
    from soma.nn.functional.recurrent.workspace import POOL

    lstm = nn.LSTM(I, H)
    x = soma.randn(T, B, I, requires_grad=True)
    output, _ = lstm(x)
    gates = output.grad_fn.saved_tensors[5].base  # the pooled (T, 4H, B) array behind the saved view
    output.sum().backward()
    assert any(a is gates for a in POOL.free.get((type(gates), gates.shape, gates.dtype), []))


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_pooled_workspace_never_shared_between_live_graphs(mode):
    """Two graphs alive at once (and one backward twice with retain_graph) get the gradients of each alone."""
    module = MODULES[mode](input_size=I, hidden_size=H, dtype=np.float64)
    xs = [np.random.default_rng(seed).standard_normal((T, B, I)) for seed in (0, 1)]

    def grads(x, twice=False):
        x = soma.tensor(x, requires_grad=True)
        module.zero_grad()
        loss = module(x)[0].square().sum()
        loss.backward(retain_graph=twice)
        if twice:
            loss.backward()
        return x.grad.numpy(), module.weight_hh_l0.grad.numpy()

    alone = [grads(x) for x in xs]
    module.zero_grad()
    inputs = [soma.tensor(x, requires_grad=True) for x in xs]
    losses = [module(x)[0].square().sum() for x in inputs]  # both forwards before either backward
    for loss in losses[::-1]:
        loss.backward()
    for x, (dx, _) in zip(inputs, alone, strict=True):
        np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-12)
    np.testing.assert_allclose(module.weight_hh_l0.grad.numpy(), alone[0][1] + alone[1][1], rtol=1e-10)
    dx2, dw2 = grads(xs[0], twice=True)
    np.testing.assert_allclose(dx2, 2 * alone[0][0], rtol=1e-12)
    np.testing.assert_allclose(dw2, 2 * alone[0][1], rtol=1e-12)


# ------------------------------------------------------------------ higher order
def _leaf(shape, seed):
    return soma.tensor(np.random.default_rng(seed).standard_normal(shape) * 0.5, requires_grad=True)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("lengths", [None, [2, 1]])
def test_kernel_gradgradcheck(kind, lengths):
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    x, h0, c0 = _leaf((2, 2, 2), 0), _leaf((2, 2), 1), _leaf((2, 2), 2)
    w_ih, w_hh, b_ih, b_hh = _leaf((gates * 2, 2), 3), _leaf((gates * 2, 2), 4), _leaf(gates * 2, 5), _leaf(gates * 2, 6)
    if kind == "lstm":

        def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
            out, (h, c) = F.lstm_layer(x, (h0, c0), w_ih, w_hh, b_ih, b_hh, reverse=True, lengths=lengths)
            return out, h, c

        inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    else:
        layer = F.gru_layer if kind == "gru" else F.rnn_layer

        def fn(x, h0, w_ih, w_hh, b_ih, b_hh):
            return layer(x, h0, w_ih, w_hh, b_ih, b_hh, batch_first=True, lengths=lengths)

        inputs = (x, h0, w_ih, w_hh, b_ih, b_hh)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_second_order_gradients_match_torch(mode):
    """A gradient penalty through a 2-layer bidirectional layer: ||d out/d x||² differentiated again."""
    kind = nn.LSTM if mode == "lstm" else nn.GRU
    s = kind(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    t = getattr(torch.nn, kind.__name__)(3, 4, num_layers=2, bidirectional=True, batch_first=True,
                                          dtype=torch.float64)
    copy_weights_to_torch(s, t)
    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    results = []
    for lib, module in ((soma, s), (torch, t)):
        xs = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(module(xs)[0].tanh().sum(), [xs], create_graph=True)
        penalty = (g * g).sum()
        params = list(module.parameters())
        grads = lib.autograd.grad(penalty, [xs, *params])
        results.append([float(penalty.detach())] + [a.detach().numpy() for a in grads])
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)

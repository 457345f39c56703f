"""RNN, LSTM, GRU and their cells against PyTorch with copied weights; packing; gradchecks; errors.

Every comparison checks the outputs, the final states, and the gradients with respect
to the input, the initial states and every parameter, in float64 (1e-9) and float32 (1e-5).
"""

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
from helpers import copy_weights_to_torch
from soma import nn
from soma.autograd import gradcheck
from soma.nn.utils import rnn as rnn_utils

T, B, I, H = 5, 3, 4, 6
MODES = {
    "rnn_tanh": (lambda **k: nn.RNN(**k), lambda **k: torch.nn.RNN(**k)),
    "rnn_relu": (
        lambda **k: nn.RNN(nonlinearity="relu", **k),
        lambda **k: torch.nn.RNN(nonlinearity="relu", **k),
    ),
    "lstm": (lambda **k: nn.LSTM(**k), lambda **k: torch.nn.LSTM(**k)),
    "gru": (lambda **k: nn.GRU(**k), lambda **k: torch.nn.GRU(**k)),
}
CONFIGS = [
    dict(num_layers=1, bidirectional=False, batch_first=False, bias=True),
    dict(num_layers=2, bidirectional=False, batch_first=True, bias=True),
    dict(num_layers=1, bidirectional=True, batch_first=False, bias=False),
    dict(num_layers=2, bidirectional=True, batch_first=True, bias=True),
]
TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=1e-5, atol=2e-6)}


def _pair(mode, dtype, input_size=I, hidden_size=H, **config):
    make_soma, make_torch = MODES[mode]
    s = make_soma(input_size=input_size, hidden_size=hidden_size, dtype=dtype, **config)
    t = make_torch(
        input_size=input_size,
        hidden_size=hidden_size,
        dtype=getattr(torch, np.dtype(dtype).name),
        **config,
    )
    copy_weights_to_torch(s, t)
    return s, t


def _flatten(out):
    """(output, h) or (output, (h, c)) -> [output, h(, c)]."""
    output, state = out
    return [output, *state] if isinstance(state, tuple) else [output, state]


def _compare(s_mod, t_mod, inputs, run_s, run_t, dtype, packed=False):
    """Run both, compare every output, then back-propagate the same random weights."""
    tol = TOL[np.dtype(dtype).type]
    s_in = [soma.tensor(a, requires_grad=True) for a in inputs]
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    s_out, t_out = run_s(*s_in), run_t(*t_in)
    rng = np.random.default_rng(1)
    s_loss = t_loss = 0
    for s, t in zip(s_out, t_out, strict=True):
        assert tuple(s.shape) == tuple(t.shape)
        assert s.dtype == np.dtype(dtype)
        np.testing.assert_allclose(s.detach().numpy(), t.detach().numpy(), **tol)
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        s_loss = s_loss + (s * soma.tensor(w)).sum()
        t_loss = t_loss + (t * torch.tensor(w)).sum()
    s_loss.backward()
    t_loss.backward()
    for k, (s, t) in enumerate(zip(s_in, t_in, strict=True)):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), err_msg=f"input {k}", **tol)
    t_params = dict(t_mod.named_parameters())
    names = [n for n, _ in s_mod.named_parameters()]
    assert names == list(t_params)
    for name, p in s_mod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), err_msg=name, **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items())
)
@pytest.mark.parametrize("mode", list(MODES))
def test_layer_matches_torch(mode, config, dtype):
    s, t = _pair(mode, dtype, **config)
    directions = 2 if config["bidirectional"] else 1
    x = np.random.default_rng(0).standard_normal((B, T, I) if config["batch_first"] else (T, B, I))
    h0 = np.random.default_rng(2).standard_normal((config["num_layers"] * directions, B, H))
    arrays = [x.astype(dtype), h0.astype(dtype)]
    if mode == "lstm":
        arrays.append(np.random.default_rng(3).standard_normal(h0.shape).astype(dtype))

        def run(module):
            return lambda x, h, c: _flatten(module(x, (h, c)))
    else:

        def run(module):
            return lambda x, h: _flatten(module(x, h))

    _compare(s, t, arrays, run(s), run(t), dtype)


@pytest.mark.parametrize("mode", list(MODES))
def test_default_zero_state_odd_sizes(mode):
    s, t = _pair(mode, np.float64, input_size=7, hidden_size=9, num_layers=3)
    x = np.random.default_rng(0).standard_normal((11, 1, 7))
    _compare(s, t, [x], lambda x: _flatten(s(x)), lambda x: _flatten(t(x)), np.float64)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input(mode):
    s, t = _pair(mode, np.float64, bidirectional=True)
    x = np.random.default_rng(0).standard_normal((T, I))
    _compare(s, t, [x], lambda x: _flatten(s(x)), lambda x: _flatten(t(x)), np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", list(MODES))
def test_packed_sequence_matches_torch(mode, dtype):
    """Unsorted lengths, 2 layers, both directions: padding must not reach h_n."""
    s, t = _pair(mode, dtype, num_layers=2, bidirectional=True, batch_first=True)
    lengths = [3, 5, 1, 4]
    x = np.random.default_rng(0).standard_normal((4, 5, I)).astype(dtype)

    def run_s(x):
        packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out = _flatten(s(packed))
        padded, got = rnn_utils.pad_packed_sequence(out[0], batch_first=True)
        assert got.tolist() == lengths
        return [padded, *out[1:]]

    def run_t(x):
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        out = _flatten(t(packed))
        padded, _ = torch.nn.utils.rnn.pad_packed_sequence(out[0], batch_first=True)
        return [padded, *out[1:]]

    _compare(s, t, [x], run_s, run_t, dtype)


@pytest.mark.parametrize("mode", list(MODES))
def test_lengths_argument_equals_packing(mode):
    s, t = _pair(mode, np.float64, bidirectional=True)
    lengths = np.array([5, 2, 4])
    x = np.random.default_rng(0).standard_normal((T, 3, I))

    def run_t(x):
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out = _flatten(t(packed))
        return [torch.nn.utils.rnn.pad_packed_sequence(out[0], total_length=T)[0], *out[1:]]

    _compare(s, t, [x], lambda x: _flatten(s(x, lengths=lengths)), run_t, np.float64)


def test_packed_data_layout_matches_torch():
    seqs = [np.arange(n * 2, dtype=np.float64).reshape(n, 2) + 10 * n for n in (2, 4, 3)]
    s = rnn_utils.pack_sequence([soma.tensor(a) for a in seqs], enforce_sorted=False)
    t = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(s.data.numpy(), t.data.numpy())
    assert s.batch_sizes.tolist() == t.batch_sizes.tolist()
    assert s.sorted_indices.tolist() == t.sorted_indices.tolist()
    assert s.unsorted_indices.tolist() == t.unsorted_indices.tolist()
    with pytest.raises(RuntimeError, match="decreasing"):
        rnn_utils.pack_sequence([soma.tensor(a) for a in seqs])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    seqs = [np.random.default_rng(n).standard_normal((n, 3)) for n in (2, 5, 1)]
    s_in = [soma.tensor(a, requires_grad=True) for a in seqs]
    t_in = [torch.tensor(a, requires_grad=True) for a in seqs]
    s = rnn_utils.pad_sequence(s_in, batch_first, -1.0, side)
    t = torch.nn.utils.rnn.pad_sequence(t_in, batch_first, -1.0, side)
    np.testing.assert_array_equal(
        s.numpy() if not s.requires_grad else s.detach().numpy(), t.detach().numpy()
    )
    w = np.random.default_rng(9).standard_normal(tuple(t.shape))
    (s * soma.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for a, b in zip(s_in, t_in, strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


CELLS = {
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {}),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(CELLS))
def test_cell_matches_torch(mode, bias, dtype):
    s_cls, t_cls, kw = CELLS[mode]
    s = s_cls(5, 7, bias=bias, dtype=dtype, **kw)
    t = t_cls(5, 7, bias=bias, dtype=getattr(torch, np.dtype(dtype).name), **kw)
    copy_weights_to_torch(s, t)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal((4, 7)).astype(dtype)]
    if mode == "lstm":
        arrays.append(rng.standard_normal((4, 7)).astype(dtype))
        _compare(
            s,
            t,
            arrays,
            lambda x, h, c: list(s(x, (h, c))),
            lambda x, h, c: list(t(x, (h, c))),
            dtype,
        )
    else:
        _compare(s, t, arrays, lambda x, h: [s(x, h)], lambda x, h: [t(x, h)], dtype)


@pytest.mark.parametrize("mode", list(CELLS))
def test_cell_unbatched_and_default_state(mode):
    s_cls, t_cls, kw = CELLS[mode]
    s, t = s_cls(5, 7, dtype=np.float64, **kw), t_cls(5, 7, dtype=torch.float64, **kw)
    copy_weights_to_torch(s, t)
    x = np.random.default_rng(0).standard_normal(5)
    as_list = (lambda o: list(o)) if mode == "lstm" else (lambda o: [o])
    _compare(s, t, [x], lambda x: as_list(s(x)), lambda x: as_list(t(x)), np.float64)


def test_cell_unrolled_equals_layer():
    """An LSTMCell stepped by hand gives the fused LSTM layer's numbers."""
    layer = nn.LSTM(I, H, dtype=np.float64)
    cell = nn.LSTMCell(I, H, dtype=np.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = soma.tensor(np.random.default_rng(0).standard_normal((T, B, I)))
    with soma.no_grad():
        out, (h_n, c_n) = layer(x)
        h = c = soma.zeros(B, H, dtype=soma.float64)
        for t in range(T):
            h, c = cell(x[t], (h, c))
            np.testing.assert_allclose(h.numpy(), out[t].numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.numpy(), c_n[0].numpy(), rtol=1e-12)


# ----------------------------------------------------------------- gradchecks
def _leaf(shape, seed):
    return soma.tensor(np.random.default_rng(seed).standard_normal(shape) * 0.5, requires_grad=True)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [3, 1]])
@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_kernel_gradcheck(kind, lengths, reverse):
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    x, h0, c0 = _leaf((3, 2, 3), 0), _leaf((2, 4), 1), _leaf((2, 4), 2)
    w_ih, w_hh = _leaf((gates * 4, 3), 3), _leaf((gates * 4, 4), 4)
    b_ih, b_hh = _leaf((gates * 4,), 5), _leaf((gates * 4,), 6)
    common = dict(reverse=reverse, lengths=lengths)
    if kind == "lstm":

        def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
            out, (h, c) = F.lstm_layer(x, (h0, c0), w_ih, w_hh, b_ih, b_hh, **common)
            return out, h, c

        inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    else:
        layer = F.gru_layer if kind == "gru" else F.rnn_layer
        extra = {"nonlinearity": "relu"} if kind == "rnn_relu" else {}

        def fn(x, h0, w_ih, w_hh, b_ih, b_hh):
            return layer(x, h0, w_ih, w_hh, b_ih, b_hh, **common, **extra)

        inputs = (x, h0, w_ih, w_hh, b_ih, b_hh)
    assert gradcheck(fn, inputs)


def test_cell_functions_gradcheck():
    x, h, c = _leaf((2, 3), 0), _leaf((2, 4), 1), _leaf((2, 4), 2)
    w = {g: (_leaf((g * 4, 3), 3), _leaf((g * 4, 4), 4), _leaf((g * 4,), 5)) for g in (1, 3, 4)}
    assert gradcheck(lambda x, h: F.rnn_tanh_cell(x, h, w[1][0], w[1][1], w[1][2], w[1][2]), (x, h))
    assert gradcheck(lambda x, h: F.gru_cell(x, h, *w[3], w[3][2]), (x, h))
    assert gradcheck(lambda x, h, c: F.lstm_cell(x, (h, c), *w[4], w[4][2]), (x, h, c))
    with pytest.raises(ValueError, match="both bias_ih and bias_hh"):
        F.rnn_tanh_cell(x, h, w[1][0], w[1][1], w[1][2], None)


# -------------------------------------------------- parameters, state_dict, init
@pytest.mark.parametrize("mode", list(MODES))
def test_parameter_names_shapes_and_init(mode):
    s, t = _pair(mode, np.float32, num_layers=2, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in s.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t.named_parameters()
    ]
    bound = 1 / np.sqrt(H)
    for _, p in s.named_parameters():
        assert p.dtype == np.float32 and np.abs(p._array).max() <= bound
        assert p._array.std() > bound / 3  # drawn, not constant


def test_torch_state_dict_loads_by_name():
    t = torch.nn.GRU(I, H, num_layers=2, bidirectional=True)
    s = nn.GRU(I, H, num_layers=2, bidirectional=True)
    s.load_state_dict({k: soma.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)
    np.testing.assert_allclose(
        s(soma.tensor(x))[0].detach().numpy(),
        t(torch.tensor(x))[0].detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_repr():
    assert (
        repr(nn.LSTM(10, 20, num_layers=2, batch_first=True))
        == "LSTM(10, 20, num_layers=2, batch_first=True)"
    )
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_dropout_between_layers_only_in_training():
    s, t = _pair("lstm", np.float64, num_layers=2, dropout=0.5)
    x = soma.tensor(np.random.default_rng(0).standard_normal((T, B, I)))
    soma.manual_seed(1)
    a = s(x)[0].detach().numpy()
    soma.manual_seed(1)
    np.testing.assert_array_equal(a, s(x)[0].detach().numpy())  # same seed, same mask
    assert not np.allclose(a, s(x)[0].detach().numpy())  # fresh draw differs
    s.eval()
    t.eval()
    np.testing.assert_allclose(
        s(x)[0].detach().numpy(), t(torch.tensor(x.numpy()))[0].detach().numpy(), rtol=1e-10
    )


def test_detach_state_stops_backward():
    lstm = nn.LSTM(I, H, dtype=np.float64)
    x = soma.tensor(np.random.default_rng(0).standard_normal((2 * T, B, I)), requires_grad=True)
    _, state = lstm(x[:T])
    state = rnn_utils.detach_state(state)
    assert all(s.grad_fn is None and not s.requires_grad for s in state)
    out, _ = lstm(x[T:], state)
    out.sum().backward()
    assert not np.any(x.grad.numpy()[:T]) and np.any(x.grad.numpy()[T:])


def test_float32_training_step_keeps_float32():
    lstm = nn.LSTM(I, H, batch_first=True)
    out, (h, c) = lstm(soma.randn(B, T, I))
    assert out.dtype == h.dtype == c.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in lstm.parameters())


# ------------------------------------------------------------------------ errors
def test_errors_name_the_layer_and_shapes():
    lstm = nn.LSTM(32, 16)
    with pytest.raises(
        ValueError, match=r"LSTM\(input_size=32\) got input of shape \(50, 32, 16\)"
    ):
        lstm(soma.randn(50, 32, 16))
    with pytest.raises(ValueError, match=r"got input of shape \(4, 2, 3, 32\)"):
        lstm(soma.randn(4, 2, 3, 32))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 3, 16\), got \(2, 3, 16\)"):
        lstm(soma.randn(5, 3, 32), (soma.zeros(2, 3, 16), soma.zeros(1, 3, 16)))
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(1, 3, 16\), got \(1, 3, 8\)"):
        lstm(soma.randn(5, 3, 32), (soma.zeros(1, 3, 16), soma.zeros(1, 3, 8)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(soma.randn(5, 3, 32), soma.zeros(1, 3, 16))
    gru = nn.GRU(4, 6, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(4, 3, 6\)"):
        gru(soma.randn(5, 3, 4), soma.zeros(2, 3, 6))
    with pytest.raises(TypeError, match="dtype float64"):
        gru(soma.randn(5, 3, 4, dtype=soma.float64))
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 5\]"):
        gru(soma.randn(5, 3, 4), lengths=[5, 6, 1])
    with pytest.raises(ValueError, match=r"GRUCell\(input_size=4\) got input of shape \(3, 5\)"):
        nn.GRUCell(4, 6)(soma.randn(3, 5))
    with pytest.raises(ValueError, match=r"expected hidden state of shape \(3, 6\), got \(3, 5\)"):
        nn.GRUCell(4, 6)(soma.randn(3, 4), soma.zeros(3, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(4, 6, nonlinearity="sigmoid")


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_flatten_parameters_is_a_no_op_as_on_the_cpu(mode):
    layer = getattr(soma.nn, mode)(3, 4)
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    assert layer.flatten_parameters() is None
    assert all(np.array_equal(before[k], v.numpy()) for k, v in layer.state_dict().items())

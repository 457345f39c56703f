"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (deep, bidirectional) and their one-step cells.

A recurrent layer reads a sequence x_1 .. x_T and carries a hidden state h_t from
step to step (see notes 003 and 004, "What is a Recurrent Neural Network"):

    h_t = tanh(W_x x_t + W_h h_{t-1} + b)

In PyTorch's (and soma's) names W_x is ``weight_ih_l0``, W_h is ``weight_hh_l0`` and
b is split into ``bias_ih_l0 + bias_hh_l0``. Stacking ``num_layers`` layers feeds
each layer's outputs to the next (a "deep RNN"); ``bidirectional=True`` runs a second
layer over the reversed sequence (``..._reverse`` parameters) and concatenates both
directions' outputs. Each (layer, direction) runs as one fused kernel with a
hand-written backpropagation through time (:mod:`soma.nn.functional.recurrent`).

Variable-length batches: pass a :class:`~soma.nn.utils.rnn.PackedSequence`
(``pack_padded_sequence``) or, as a soma extension, ``lengths=`` with a padded batch;
padding then never reaches the final states and the outputs there are zero.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from soma._errors import DTypeError, ShapeError
from soma.nn import init
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional import recurrent as R
from soma.nn.functional.dropouts import dropout as _dropout
from soma.nn.functional.recurrent.reference import lengths_beside
from soma.nn.module import Module, empty_parameter
from soma.ops.shape import cat, squeeze, stack, transpose, unsqueeze
from soma.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters per (layer, direction), stacking, directions.

    Only the cell differs (``mode``: "RNN_TANH", "RNN_RELU", "LSTM", "GRU").
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{owner}: {what} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{owner}: {what} must be greater than zero, got {value}")
        if not 0 <= float(dropout) <= 1:
            raise ValueError(f"{owner}: dropout must be a probability in [0, 1], got {dropout}")
        if proj_size < 0:
            raise ValueError(f"{owner}: proj_size should be a positive integer or zero to disable projections, "
                             f"got {proj_size}")
        if proj_size:
            raise NotImplementedError(f"{mode}: proj_size is not supported by soma (use proj_size=0)")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: dict[str, tuple[int, ...]] = {"weight_ih": (gate_size, layer_input),
                                                      "weight_hh": (gate_size, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                for name, shape in shapes.items():
                    setattr(self, name + suffix, empty_parameter(shape, dtype, owner, device))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/√hidden_size, 1/√hidden_size), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self):
        """Parameters grouped per (layer, direction): [[w_ih, w_hh, b_ih, b_hh], ...]."""
        per = 4 if self.bias else 2
        flat = [getattr(self, name) for name in self._flat_weights_names]
        return [flat[k : k + per] for k in range(0, len(flat), per)]

    def flatten_parameters(self):
        """A no-op, as PyTorch's on the CPU: soma's kernels repack the weights per call (cuDNN wants them flat)."""

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text

    def _name(self):
        return f"{type(self).__name__}(input_size={self.input_size})"

    # ----------------------------------------------------------------- checks
    def _check_input(self, input, lengths):
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._name()} expects a Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(batch, seq, input_size)" if self.batch_first else "(seq, batch, input_size)"
            raise ShapeError(
                f"{self._name()} got input of shape {tuple(input.shape)}; expected {layout} "
                f"(or (seq, input_size) unbatched) with input_size={self.input_size}"
            )
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise DTypeError(
                f"{self._name()} got input of dtype {input.dtype} but its parameters are "
                f"{weight.dtype}; convert one of them (module.to(dtype) or input.to(dtype))"
            )
        if lengths is not None:
            T, B = input.shape[0], input.shape[1]
            if self.batch_first:
                T, B = B, T
            lengths = np.asarray(lengths._array if isinstance(lengths, Tensor) else lengths)
            if lengths.shape != (B,) or lengths.dtype.kind not in "iu":
                raise ValueError(f"{self._name()}: lengths must be {B} integers, got {lengths!r}")
            if lengths.min(initial=1) < 1 or lengths.max(initial=0) > T:
                raise ValueError(f"{self._name()}: lengths must lie in [1, {T}], got {lengths.tolist()}")
            lengths = lengths.astype(np.int64)
        return lengths

    def _check_state(self, state, batch, what):
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if not isinstance(state, Tensor) or tuple(state.shape) != expected:
            got = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
            raise ShapeError(f"{self._name()}: expected {what} of shape {expected}, got {got}")
        if state.dtype != self.weight_ih_l0.dtype:
            raise DTypeError(f"{self._name()}: {what} has dtype {state.dtype}, expected {self.weight_ih_l0.dtype}")

    # ---------------------------------------------------------------- forward
    def forward(self, input: Tensor, hx: Any = None,
                lengths: Tensor | Sequence[int] | np.ndarray | None = None) -> tuple[Any, Any]:
        """Run the stack over the sequence: ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``).

        ``lengths`` (soma extension): (batch,) valid lengths of a padded batch.
        """
        from soma.nn.utils.rnn import PackedSequence

        packed = input if isinstance(input, PackedSequence) else None
        x, lengths, batch_first, unbatched = self._time_major(input, lengths, packed)
        h0, c0 = self._initial_state(hx, x.shape[1], unbatched)
        output, h_n, c_n = self._run_any_batch(x, h0, c0, lengths)
        if packed is not None:
            from soma.nn.utils.rnn import _repack

            output = _repack(output, packed)
        elif unbatched:
            output, h_n = squeeze(output, 1), squeeze(h_n, 1)
            c_n = None if c_n is None else squeeze(c_n, 1)
        elif batch_first:
            output = transpose(output, 0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _time_major(self, input, lengths, packed):
        """The checked input as (seq, batch, features) and its lengths, whether it was batch-first, and unbatched."""
        if packed is not None:
            from soma.nn.utils.rnn import _pad_packed

            input, lengths = _pad_packed(packed)  # time-major padded, original batch order
            if input.shape[-1] != self.input_size:
                raise ValueError(f"{self._name()} got packed data of shape {tuple(packed.data.shape)}")
            batch_first = False
        else:
            lengths = self._check_input(input, lengths)
            batch_first = self.batch_first
        unbatched = input.ndim == 2
        if unbatched:
            input, batch_first = unsqueeze(input, 1), False
        elif batch_first:
            input = transpose(input, 0, 1)  # the kernels work time-major
        return input, lengths, batch_first, unbatched

    def _initial_state(self, hx, batch, unbatched):
        """(h_0, c_0) from ``hx`` (c_0 only for an LSTM; None for zeros), checked against the batch."""
        if hx is None:
            return None, None
        is_lstm = self.mode == "LSTM"
        if is_lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{self._name()}: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        if unbatched:
            h0 = unsqueeze(h0, 1) if isinstance(h0, Tensor) and h0.ndim == 2 else h0
            c0 = unsqueeze(c0, 1) if isinstance(c0, Tensor) and c0.ndim == 2 else c0
        self._check_state(h0, batch, "h_0")
        if is_lstm:
            self._check_state(c0, batch, "c_0")
        return h0, c0

    def _run_any_batch(self, x, h0, c0, lengths):
        """:meth:`_run`, also for an empty batch (as PyTorch: one zero sample is run and none of it kept)."""
        if x.shape[0] == 0:
            raise RuntimeError(f"{self._name()}: Expected sequence length to be larger than 0 in RNN, got input "
                               f"of shape {tuple(x.shape)} (time-major)")
        if x.shape[1] > 0:
            return self._run(x, h0, c0, lengths)
        lengths = None if lengths is None else np.append(lengths, x.shape[0])
        x1, h1, c1 = (_one_more(t, 1) for t in (x, h0, c0))
        return tuple(None if t is None else t[:, :0] for t in self._run(x1, h1, c1, lengths))

    def _run(self, x, h0, c0, lengths):
        """Layers bottom to top, each one kernel per direction; time-major throughout."""
        directions = 2 if self.bidirectional else 1
        batch, dtype = x.shape[1], x.dtype
        zeros = Tensor._make(np.zeros((batch, self.hidden_size), dtype, like=x._array), False)
        if lengths is not None:  # checked on the host; the kernels mask with them beside the data
            lengths = lengths_beside(lengths, x._array)
        kernel = {"LSTM": R.LSTMLayer, "GRU": R.GRULayer}.get(self.mode, R.RNNLayer)
        nonlinearity = "relu" if self.mode == "RNN_RELU" else "tanh"
        weights = self.all_weights
        h_last, c_last = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                w = weights[index]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                h = zeros if h0 is None else h0[index]
                c = None
                if self.mode == "LSTM":
                    c = zeros if c0 is None else c0[index]
                result = kernel.apply(
                    x, h, c, w[0], w[1], b_ih, b_hh, reverse=bool(direction), lengths=lengths, nonlinearity=nonlinearity
                )
                outputs.append(result[0])
                h_last.append(result[1])
                if c is not None:
                    c_last.append(result[2])
            x = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        h_n = stack(h_last, 0)
        c_n = stack(c_last, 0) if c_last else None
        return x, h_n, c_n


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (see notes 004, RNN).

    With ``nonlinearity='relu'``, relu replaces tanh. For ``num_layers`` > 1 the input of
    layer l is the output of layer l-1 (with dropout between layers when training).

    Args:
        input_size: features of x_t.   hidden_size: features of h_t.
        num_layers: stacked layers (default 1).   nonlinearity: 'tanh' (default) or 'relu'.
        bias: learn b_ih and b_hh (default True).
        batch_first: input/output as (batch, seq, feature) instead of (seq, batch, feature).
        dropout: drop probability on the outputs of every layer but the last (default 0).
        bidirectional: add a reverse-direction layer and concatenate (default False).

    Shape:
        input (L, N, H_in) or (N, L, H_in) with batch_first, or a PackedSequence;
        h_0 (D·num_layers, N, H_out) (zeros when omitted);
        output (L, N, D·H_out), h_n (D·num_layers, N, H_out), D = 2 if bidirectional else 1.

    Attributes:
        weight_ih_l[k] (H_out, H_in or D·H_out), weight_hh_l[k] (H_out, H_out),
        bias_ih_l[k], bias_hh_l[k] (H_out,), and ``..._reverse`` for the second direction;
        all initialized U(-1/√hidden_size, 1/√hidden_size) as PyTorch.

    Example::

        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(soma.randn(5, 3, 10), soma.zeros(2, 3, 20))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device=device, dtype=dtype,
        )


class LSTM(RNNBase):
    """Long short-term memory (see notes 003, "LSTM Networks", and 004, LSTM gates):

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
        f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)  cell update
        o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    The cell state c_t carries information along additively, so its gradient is scaled
    by f_t rather than squashed by tanh' at every step: that is why LSTMs escape the
    vanishing gradient of a plain RNN (``examples/rnn_vanishing_gradient.py``).

    Args, Shape: as :class:`RNN`, plus c_0/c_n of the same shape as h_0/h_n;
    ``hx = (h_0, c_0)`` and the result is ``(output, (h_n, c_n))``.

    Attributes:
        weight_ih_l[k] (4·hidden_size, input) stacks W_ii|W_if|W_ig|W_io (gate order i, f, g, o),
        weight_hh_l[k] (4·hidden_size, hidden_size), bias_ih_l[k], bias_hh_l[k] (4·hidden_size,);
        all U(-1/√hidden_size, 1/√hidden_size). ``proj_size`` is not supported.

    Example::

        >>> lstm = nn.LSTM(32, 128, batch_first=True)
        >>> output, (h_n, c_n) = lstm(soma.randn(8, 50, 32))
        >>> output.shape, h_n.shape
        ((8, 50, 128), (1, 8, 128))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
            device=device, dtype=dtype,
        )


class GRU(RNNBase):
    """Gated recurrent unit (see notes 004, GRU), with PyTorch's placement of r:

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)     reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)     update gate
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Args, Shape: as :class:`RNN`. Attributes: weight_ih_l[k] (3·hidden_size, input) stacks
    W_ir|W_iz|W_in (gate order r, z, n), weight_hh_l[k] (3·hidden_size, hidden_size), biases
    (3·hidden_size,); all U(-1/√hidden_size, 1/√hidden_size).

    Example::

        >>> gru = nn.GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(soma.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 40), (2, 3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device=device, dtype=dtype,
        )


def _one_more(t, axis):
    """``t`` with one zero sample appended along the batch ``axis`` (None stays None)."""
    if t is None:
        return None
    shape = list(t.shape)
    shape[axis] = 1
    zeros = np.zeros(shape, t.dtype, like=t._array if isinstance(t, Tensor) else t)
    if not isinstance(t, Tensor):
        return np.concatenate([t, zeros], axis)
    return cat([t, Tensor._make(zeros, False)], axis)


class RNNCellBase(Module):
    """One time step of a recurrent layer; parameters weight_ih, weight_hh, bias_ih, bias_hh."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        name = type(self).__name__
        self.weight_ih = empty_parameter((num_chunks * hidden_size, input_size), dtype, name, device)
        self.weight_hh = empty_parameter((num_chunks * hidden_size, hidden_size), dtype, name, device)
        if bias:
            self.bias_ih = empty_parameter(num_chunks * hidden_size, dtype, name, device)
            self.bias_hh = empty_parameter(num_chunks * hidden_size, dtype, name, device)
        else:
            self.bias_ih = self.bias_hh = None
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/√hidden_size, 1/√hidden_size) for every parameter, as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        return text

    def _step(self, function, input, hx, states):
        name = f"{type(self).__name__}(input_size={self.input_size})"
        if not isinstance(input, Tensor) or input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ShapeError(f"{name} got input of shape {got}; expected (batch, {self.input_size})")
        if input.dtype != self.weight_ih.dtype:
            raise DTypeError(f"{name} got input of dtype {input.dtype}, parameters are {self.weight_ih.dtype}")
        unbatched = input.ndim == 1
        if unbatched:
            input = unsqueeze(input, 0)
        expected = (input.shape[0], self.hidden_size)
        if hx is None:
            zeros = np.zeros(expected, input.dtype, like=input._array)
            hx = (zeros, zeros) if states == 2 else zeros
        hx = tuple(hx) if states == 2 else (hx,)
        if states == 2 and len(hx) != 2:
            raise TypeError(f"{name}: hx must be a tuple (h, c)")
        hx = tuple(unsqueeze(h, 0) if unbatched and isinstance(h, Tensor) else h for h in hx)
        for h in hx:
            if tuple(h.shape) != expected:
                raise ShapeError(f"{name}: expected hidden state of shape {expected}, got {tuple(h.shape)}")
        empty = expected[0] == 0  # an empty batch, as PyTorch: step one zero sample and keep none of it
        if empty:
            input, hx = _one_more(input, 0), tuple(_one_more(h, 0) for h in hx)
        out = function(input, hx if states == 2 else hx[0], self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if empty:
            out = tuple(o[:0] for o in out) if states == 2 else out[:0]
        if unbatched:
            out = tuple(squeeze(o, 0) for o in out) if states == 2 else squeeze(out, 0)
        return out


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu): one step of :class:`RNN`.

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``; hidden: ``(N, H_out)`` or ``(H_out)`` (zeros if omitted).
        - Output: h' of the hidden's shape.

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> h = soma.zeros(3, 20)
        >>> for x_t in soma.randn(6, 3, 10):
        ...     h = cell(x_t, h)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Any = None) -> Tensor:
        fn = R.rnn_tanh_cell if self.nonlinearity == "tanh" else R.rnn_relu_cell
        return self._step(fn, input, hx, 1)


class LSTMCell(RNNCellBase):
    """One step of :class:`LSTM`: (x, (h, c)) -> (h', c') with gates i, f, g, o.

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``; (h, c): each ``(N, H_out)`` or ``(H_out)`` (zeros if omitted).
        - Output: (h', c'), each of h's shape.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        return self._step(R.lstm_cell, input, hx, 2)


class GRUCell(RNNCellBase):
    """One step of :class:`GRU`: (x, h) -> h' with gates r, z, n.

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``; hidden: ``(N, H_out)`` or ``(H_out)`` (zeros if omitted).
        - Output: h' of the hidden's shape.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Any = None) -> Tensor:
        return self._step(R.gru_cell, input, hx, 1)

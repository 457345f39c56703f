"""The driver every recurrent kernel shares: one layer, one direction, all time steps as ONE graph node.

Unrolling a recurrence into small ops would record thousands of nodes per sequence.
Instead :class:`RecurrentLayer` is a single ``Function`` whose forward does

* one GEMM for the input projection of every time step, W_ih [x_t; 1] for all t, then
* one GEMM per step for the recurrence, W_hh h_{t-1}, plus the cell's elementwise math
  (the subclass's ``forward_steps``, see :mod:`.cells`),

and whose backward is backpropagation through time written by hand: the cell's
``backward_steps`` runs one GEMM per step, dh_{t-1} = Σ_k W_hh,k^T dG_t,k (+ the cell's direct
paths), and then single GEMMs over all T·B columns give the rest:

    dW_ih = Σ_t dG_t [x_t; 1]^T   (its last column is the bias gradient)
    dW_hh = Σ_t dG_t h_{t-1}^T    dx_t = W_ih^T dG_t

States are feature-major (H, B) inside the kernel (:mod:`.layout`); the arrays that
cross the node's boundary are PyTorch's (T, B, ·). What forward keeps for backward is
one :class:`Saved` record in ``ctx.saved_tensors``; the node holds nothing else but
constants, so after backward (without ``retain_graph``) it holds no arrays at all.

Variable lengths: with ``lengths`` (one per batch row), steps past a row's length
leave its state unchanged and output zeros, so padding never reaches the final
state (PyTorch's packed-sequence semantics, for both directions).
"""

from typing import Any, NamedTuple

import numpy as np

from soma.autograd.function import Function
from soma.backend import contiguous
from soma.nn.functional.recurrent import reference
from soma.nn.functional.recurrent.layout import blocks, left_multiplied, sigmoid_scale, torch_order
from soma.nn.functional.recurrent.workspace import POOL, one_blas_thread, saved

__all__ = ["RecurrentLayer", "Saved"]


class Saved(NamedTuple):
    """What a layer's forward keeps for its backward; None where a cell has no such array."""

    weight_ih: np.ndarray  # PyTorch's (n·H, I): dx, and the in-place-change check
    weight_hh: np.ndarray  # PyTorch's (n·H, H): dh_{t-1}
    inputs: np.ndarray  # (T, B, I[+1]) time-major x_t, with a column of ones when there is a bias
    hidden: np.ndarray  # (T+1, B, H) the states h in step order (h_0 first, or last when reversed)
    valid: np.ndarray  # (T, 1, B) bool: step t lies inside row b's length (None: all do)
    gates: np.ndarray  # (T, n·H, B) gate activations, internal order (LSTM, GRU)
    cell: np.ndarray  # (T+1, H, B) LSTM cell states c, like hidden
    cell_tanh: np.ndarray  # (T, H, B) LSTM tanh(c_t)
    hidden_proj: np.ndarray  # (T, H, B) GRU W_hn h_{t-1} + b_hn
    state_minus_candidate: np.ndarray  # (T, H, B) GRU h_{t-1} - n_t


def to_gate_rows(grads):
    """(T, k, B) gate gradients -> one pooled (k, T·B) array: the gradients of all steps as GEMM rows."""
    T, k, B = grads.shape
    rows = POOL.take((k, T * B), grads.dtype, grads)
    np.copyto(rows.reshape(k, T, B), grads.transpose(1, 0, 2))
    return rows


class RecurrentLayer(Function):
    """forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh) for one layer and direction.

    x is (T, B, I) (or (B, T, I) when ``batch_first``), h0/c0 (B, H) (c0 is None except
    for LSTM), biases optional (both or neither). Returns (output, h_n) or, for LSTM,
    (output, h_n, c_n). Subclasses give the cell math (:mod:`.cells`).
    """

    mode = "RNN"  # the reference cell (:func:`.reference.layer`) this kernel computes
    n_gates = 1
    order: Any = None  # internal order of PyTorch's gate blocks (None: unchanged)
    input_side_order: Any = None  # the order of backward's input-side gate gradients, where it is not ``order``
    n_sigmoid = 0  # the first n_sigmoid internal gates are sigmoids (pre-scaled by 1/2)

    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, batch_first=False, reverse=False,
                lengths=None, nonlinearity="tanh"):
        if batch_first:
            x = x.swapaxes(0, 1)
        T, B, I = x.shape
        H, dtype = weight_hh.shape[1], x.dtype
        has_bias = bias_ih is not None
        # x time-major plus a row of ones under each x_t when there is a bias: the bias then rides
        # in the input GEMM, and its gradient in dW_ih's, instead of extra passes.
        inputs = POOL.take((T, B, I + has_bias), dtype, x)
        np.copyto(inputs[..., :I], x)
        if has_bias:
            inputs[..., I] = 1
        w_ih, w_hh, b_hn = ctx.prepare(weight_ih, weight_hh, bias_ih, bias_hh)
        gates = POOL.take((T, ctx.n_gates * H, B), dtype, x)
        r = int(reverse)
        states = POOL.take((T + 1, H, B), dtype, x)  # h_0 at states[0] (states[T] if reversed)
        states[T * r] = h0.T
        cell = None
        if c0 is not None:
            cell = POOL.take((T + 1, H, B), dtype, x)
            cell[T * r] = c0.T
        valid = keep = None
        if lengths is not None:
            valid = (np.arange(T, like=lengths)[:, None] < lengths[None, :])[:, None, :]
            keep = ~valid
        steps = range(T - 1, -1, -1) if reverse else range(T)
        with np.errstate(over="ignore"), one_blas_thread():
            # every step's input projection, (T, n·H, B): T small GEMMs, on a contiguous copy of x^T
            np.matmul(w_ih, contiguous(inputs.transpose(0, 2, 1)), out=gates)
            kept = ctx.forward_steps(gates, states, cell, w_hh, b_hn, steps, r, keep, nonlinearity)
        hidden = np.empty((T + 1, B, H), dtype, like=x)
        np.copyto(hidden, states.transpose(0, 2, 1))
        last = T * (1 - r)
        c_n = None if cell is None else contiguous(cell[last].T)
        POOL.give(states)
        cell_tanh, hidden_proj, state_minus_candidate = (kept.get(k) for k in ("cell_tanh", "hidden_proj",
                                                                                "state_minus_candidate"))
        if any(ctx.needs_input_grad):
            ctx.batch_first, ctx.reverse, ctx.nonlinearity, ctx.has_bias = batch_first, reverse, nonlinearity, has_bias
            if "gates" not in kept:
                POOL.give(gates)
            ctx.save_for_backward(*Saved(weight_ih, weight_hh, saved(inputs), hidden, valid, saved(kept.get("gates")),
                                         saved(cell), saved(cell_tanh), saved(hidden_proj),
                                         saved(state_minus_candidate)))
        else:  # nothing will call backward: the workspace goes straight back
            POOL.give(inputs, gates, cell, cell_tanh, hidden_proj, state_minus_candidate)
        out = hidden[1 - r : T + 1 - r]
        if valid is not None:
            out = out * valid.transpose(0, 2, 1)
        if batch_first:
            out = out.swapaxes(0, 1)
        return (out, hidden[last]) if c_n is None else (out, hidden[last], c_n)

    @staticmethod
    def backward(ctx, grad_output, grad_h_n, grad_c_n=None):
        s = Saved(*ctx.saved_tensors)
        T, B, I = s.inputs.shape
        I -= ctx.has_bias
        n, order, r = ctx.n_gates, ctx.order, int(ctx.reverse)
        H = s.weight_hh.shape[1]
        dout = grad_output.swapaxes(0, 1) if ctx.batch_first else grad_output
        dout_cols = POOL.take((T, H, B), dout.dtype, dout)
        np.copyto(dout_cols, dout.transpose(0, 2, 1))
        if s.valid is not None:
            dout_cols *= s.valid
        steps = range(T) if ctx.reverse else range(T - 1, -1, -1)
        w_hh_t = blocks(s.weight_hh, n, order).transpose(0, 2, 1)  # W_hh,k^T, unscaled: dG is w.r.t. a_t
        dc_n = None if grad_c_n is None else grad_c_n.T
        with np.errstate(under="ignore"), one_blas_thread():
            dG, dGh, dh0, dc0, scratch = ctx.backward_steps(s, dout_cols, grad_h_n.T, dc_n, w_hh_t, steps, r,
                                                                 ctx.nonlinearity)
        dGh = dG if dGh is None else dGh  # (n·H, T·B) each: the gate gradients as GEMM rows
        x_order = order if ctx.input_side_order is None else ctx.input_side_order
        needs = ctx.needs_input_grad
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if needs[0]:
            w_ih = blocks(s.weight_ih, n, x_order).reshape(n * H, I)
            dx = (dG.T @ w_ih).reshape(T, B, I)  # dx_t = W_ih^T dG_t
            if ctx.batch_first:
                dx = dx.swapaxes(0, 1)
        if needs[3] or needs[5] or needs[6]:  # Σ_t dG_t [x_t; 1]^T in one GEMM
            dw = torch_order(dG @ s.inputs.reshape(T * B, -1), x_order)
            dw_ih = contiguous(dw[:, :I])
            if ctx.has_bias:
                db_ih = dw[:, I].copy()  # the ones column's weight is the bias
                db_hh = db_ih if dGh is dG else torch_order(dGh.sum(1), order)
        if needs[4]:  # Σ_t dG_t h_{t-1}^T
            dw_hh = torch_order(dGh @ s.hidden[r : T + r].reshape(T * B, H), order)
        POOL.give(dout_cols, *scratch, dG, dGh)  # (views of pooled arrays are skipped: their base is in scratch)
        dh0 = contiguous(dh0.T)
        dc0 = None if dc0 is None else contiguous(dc0.T)
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh

    @staticmethod
    def composite(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
        """The same layer unrolled in the reference cells' differentiable ops: what the engine
        differentiates for higher-order gradients (``create_graph=True``)."""
        valid = Saved(*ctx.saved_tensors).valid
        lengths = None if valid is None else valid[:, 0, :].sum(0)
        return reference.layer(ctx.mode, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, batch_first=ctx.batch_first,
                               reverse=ctx.reverse, lengths=lengths, nonlinearity=ctx.nonlinearity)

    @classmethod
    def prepare(cls, weight_ih, weight_hh, bias_ih, bias_hh):
        """PyTorch's weights in internal form (:mod:`.layout`): [W_ih | b] (n·H, I+1) and the W_hh blocks
        (n, H, H), gates in internal order, sigmoid rows scaled by 1/2; and b_hn, which only GRU keeps apart."""
        n, order = cls.n_gates, cls.order
        scale = sigmoid_scale(n, cls.n_sigmoid, weight_ih)
        bias = None if bias_ih is None else blocks(bias_ih + bias_hh, n, order) * scale[..., 0]
        w_hh = blocks(weight_hh, n, order) * scale
        return left_multiplied(blocks(weight_ih, n, order) * scale, bias), w_hh, None

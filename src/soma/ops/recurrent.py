"""Recurrent kernels: a whole RNN, LSTM or GRU layer (one direction) as ONE graph node.

Unrolling a recurrence with tiny ops would record thousands of nodes per sequence.
Instead each layer is a single ``Function`` whose forward does

* one GEMM for the input projection of all time steps, ``X W_ih^T + b`` (T·B rows), then
* one GEMM per step for the recurrence, ``h_{t-1} W_hh^T``, plus the cell's
  elementwise math (see notes 003/004),

saving the gates, and whose backward is backpropagation through time written by
hand: one GEMM per step for ``dh_{t-1}``, then single GEMMs over all steps for the
weight gradients ``dW_ih = Σ_t dG_t^T x_t`` and ``dW_hh = Σ_t dG_t^T h_{t-1}``.
RNN, LSTM and GRU share that machinery (:class:`RecurrentLayer`); only the cell
math differs:

    RNN:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)            (or relu)
    LSTM: i, f, g, o = σ, σ, tanh, σ (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
          c_t = f * c_{t-1} + i * g          h_t = o * tanh(c_t)
    GRU:  r, z = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})
          n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
          h_t = (1 - z) * n + z * h_{t-1}

Two tricks keep the per-step Python short. Gates are stored in an internal order
where all sigmoid gates are contiguous (LSTM: o, i, f, g), and their weight rows are
pre-scaled by 1/2, so ONE ``tanh`` over all gates gives every nonlinearity:
``σ(a) = (1 + tanh(a/2)) / 2``. In backward, every derivative factor that does not
depend on the incoming gradient is computed for all steps at once before the loop.

Variable lengths: with ``lengths`` (one per batch row), steps past a row's length
leave its state unchanged and output zeros, so padding never reaches the final
state (PyTorch's packed-sequence semantics, for both directions).
"""

import weakref

import numpy as np

from soma.autograd.function import Function
from soma.tensor import Tensor

__all__ = ["rnn_layer", "lstm_layer", "gru_layer", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


class _Pool:
    """Large scratch arrays kept for reuse across calls (preallocated workspace).

    Fresh multi-megabyte arrays cost a page fault per 4 KiB page on first touch; on a
    virtual machine that can dominate a whole training step (measured here: 9 ms with
    reuse, 300+ ms without). Arrays that only a graph node holds go back to the pool
    when the node dies (``weakref.finalize``); backward's scratch goes back at its end.
    """

    def __init__(self, per_key=4, keys=64):
        self.free, self.per_key, self.keys = {}, per_key, keys

    def take(self, shape, dtype):
        stack = self.free.get((shape, dtype))
        return stack.pop() if stack else np.empty(shape, dtype)

    def give(self, *arrays):
        for array in arrays:
            if array is None or array.base is not None:
                continue
            if len(self.free) > self.keys:
                self.free.clear()
            stack = self.free.setdefault((array.shape, array.dtype), [])
            if len(stack) < self.per_key:
                stack.append(array)


_POOL = _Pool()


def _gates(a, n, order):
    """A PyTorch (n*H, ...) weight/bias/gradient as (n, H, ...) blocks in internal gate order."""
    a = a.reshape(n, -1, *a.shape[1:])
    return a if order is None else a[list(order)]


def _torch_order(a, order):
    """The inverse of :func:`_gates`: (n, H, ...) internal blocks back to PyTorch's (n*H, ...)."""
    if order is not None:
        a = a[np.argsort(order)]
    return a.reshape(-1, *a.shape[2:])


def _with_bias(w_ih, bias):
    """(n, H, I) blocks -> (n, I, H) right-multiplied, plus the bias (n, H) as row I."""
    w_ih = w_ih.transpose(0, 2, 1)
    return w_ih if bias is None else np.concatenate([w_ih, bias[:, None, :]], axis=1)


class RecurrentLayer(Function):
    """One layer, one direction, all time steps. Subclasses give the cell math.

    forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh) with x of shape
    (T, B, I) (or (B, T, I) when ``batch_first``), h0/c0 (B, H) (c0 is None except
    for LSTM), biases optional. Returns (output, h_n) or, for LSTM, (output, h_n, c_n).

    Layout: gate pre-activations and their gradients are stored gate-major, (n, T, B, H),
    so that every gate of every step is one contiguous (B, H) block (elementwise ops on
    strided column slices of a (B, n*H) array cost 3-4x more). Each GEMM against the
    stacked weights is a batched matmul over the n gates: as fast as one (B, n*H) GEMM.
    """

    n_gates = 1
    order = None  # internal order of PyTorch's gate blocks (None: unchanged)
    n_sigmoid = 0  # the first n_sigmoid internal gates are sigmoids (pre-scaled by 1/2)

    @staticmethod
    def forward(
        ctx,
        x,
        h0,
        c0,
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
        batch_first=False,
        reverse=False,
        lengths=None,
        nonlinearity="tanh",
    ):
        if batch_first:
            x = x.swapaxes(0, 1)
        T, B, I = x.shape
        H = weight_hh.shape[1]
        n = ctx.n_gates
        dtype = x.dtype
        take = _POOL.take
        # x time-major (kept for dW_ih), plus a column of ones when there is a bias: the bias
        # then rides in the input GEMM, and its gradient in dW_ih's, instead of extra passes.
        has_bias = bias_ih is not None
        own_x = take((T, B, I + has_bias), dtype)
        np.copyto(own_x[..., :I], x)
        if has_bias:
            own_x[..., I] = 1
        x = own_x
        ctx.batch_first, ctx.reverse, ctx.nonlinearity = batch_first, reverse, nonlinearity
        w_ih, w_hh, b_hn = ctx._prepare(weight_ih, weight_hh, bias_ih, bias_hh, H)

        # One (batched over gates) GEMM for the input projection of every time step.
        G = take((n, T, B, H), dtype)
        np.matmul(x.reshape(T * B, -1), w_ih, out=G.reshape(n, T * B, H))
        r = 1 if reverse else 0
        hs = np.empty((T + 1, B, H), dtype)  # carried states; h0 at hs[0] (hs[T] if reverse)
        hs[T * r] = h0
        cs = None
        if c0 is not None:
            cs = take((T + 1, B, H), dtype)
            cs[T * r] = c0
        keep = mask = None
        if lengths is not None:
            mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]  # (T, B, 1)
            keep = ~mask
        steps = range(T - 1, -1, -1) if reverse else range(T)
        with np.errstate(over="ignore"):
            scratch = ctx._forward_steps(G, hs, cs, w_hh, b_hn, steps, r, keep)

        ctx.G, ctx.hs, ctx.cs, ctx.x, ctx.mask, ctx.keep = G, hs, cs, x, mask, keep
        ctx.has_bias = has_bias
        ctx.save_for_backward(weight_ih, weight_hh)
        # These arrays are held by this node only: they go back to the pool when it dies.
        weakref.finalize(ctx, _POOL.give, G, cs, own_x, *scratch)
        out = hs[1 - r : T + 1 - r]
        if mask is not None:
            out = out * mask
        if batch_first:
            out = out.swapaxes(0, 1)
        last = T * (1 - r)
        if cs is None:
            return out, hs[last]
        return out, hs[last], cs[last].copy()

    @staticmethod
    def backward(ctx, grad_output, grad_h_n, grad_c_n=None):
        weight_ih, weight_hh = ctx.saved_tensors
        hs, x, mask, keep, r = ctx.hs, ctx.x, ctx.mask, ctx.keep, int(ctx.reverse)
        T, B, I = x.shape
        I -= ctx.has_bias
        H, n, order = weight_hh.shape[1], ctx.n_gates, ctx.order
        dout = grad_output.swapaxes(0, 1) if ctx.batch_first else grad_output
        if mask is not None:
            dout = dout * mask
        h_prev = hs[r : T + r]
        steps = range(T) if ctx.reverse else range(T - 1, -1, -1)
        w_hh = _gates(weight_hh, n, order)  # (n, H, H): dh_{t-1} = Σ_k dG_k W_hh,k
        with np.errstate(under="ignore"):
            dG, dGh, dh0, dc0, scratch = ctx._backward_steps(dout, grad_h_n, grad_c_n, h_prev, w_hh, steps, mask, keep)
        needs = ctx.needs_input_grad
        TB = T * B
        dG2 = dG.reshape(n, TB, H)
        dGh2 = dG2 if dGh is None else dGh.reshape(n, TB, H)
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if needs[0]:
            w_ih = _gates(weight_ih, n, order)
            dx = dG2[0] @ w_ih[0]  # dx_t = Σ_k dG_k,t W_ih,k
            for k in range(1, n):
                dx += dG2[k] @ w_ih[k]
            dx = dx.reshape(T, B, -1)
            if ctx.batch_first:
                dx = dx.swapaxes(0, 1)
        if needs[3] or needs[5] or needs[6]:  # Σ_t dG_t^T [x_t, 1]: one GEMM per gate block
            dw = _torch_order(np.matmul(dG2.transpose(0, 2, 1), x.reshape(TB, -1)), order)
            dw_ih = np.ascontiguousarray(dw[:, :I])
            if ctx.has_bias:
                db_ih = dw[:, I].copy()  # the ones column's weight is the bias
                db_hh = db_ih if dGh is None else _torch_order(dGh2.sum(1), order)
        if needs[4]:  # Σ_t dG_t^T h_{t-1}
            dw_hh = _torch_order(np.matmul(dGh2.transpose(0, 2, 1), h_prev.reshape(TB, H)), order)
        _POOL.give(*scratch)
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh

    # Subclasses: how weights are laid out, the forward step, the backward step.
    def _prepare(self, weight_ih, weight_hh, bias_ih, bias_hh, H):
        """Right-multiplied gate blocks in internal order (sigmoid blocks scaled by 1/2):
        w_ih (n, I, H) with the folded bias as an extra row (n, I+1, H), w_hh (n, H, H),
        and a separate b_hn (GRU only)."""
        n, order = self.n_gates, self.order
        w_ih, w_hh = _gates(weight_ih, n, order), _gates(weight_hh, n, order)
        bias = None if bias_ih is None else _gates(bias_ih + bias_hh, n, order)
        if self.n_sigmoid:
            scale = np.ones((n, 1), weight_ih.dtype)
            scale[: self.n_sigmoid] = 0.5
            w_ih, w_hh = w_ih * scale[:, :, None], w_hh * scale[:, :, None]
            bias = None if bias is None else bias * scale
        return _with_bias(w_ih, bias), np.ascontiguousarray(w_hh.transpose(0, 2, 1)), None


class RNNLayer(RecurrentLayer):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu); see notes 004, RNN."""

    def _forward_steps(self, G, hs, cs, w_hh, b_hn, steps, r, keep):
        relu = self.nonlinearity == "relu"
        G, w_hh = G[0], w_hh[0]
        tmp = np.empty(hs.shape[1:], hs.dtype)
        for t in steps:
            gt = G[t]
            gt += np.matmul(hs[t + r], w_hh, out=tmp)  # one GEMM per step
            new = hs[t + 1 - r]
            if relu:
                np.maximum(gt, 0, out=new)
            else:
                np.tanh(gt, out=new)
            if keep is not None:
                np.copyto(new, hs[t + r], where=keep[t])
        return ()

    def _backward_steps(self, dout, dh_n, dc_n, h_prev, w_hh, steps, mask, keep):
        T = dout.shape[0]
        r = int(self.reverse)
        h = self.hs[1 - r : T + 1 - r]
        w_hh = w_hh[0]
        dG = _POOL.take(h.shape, h.dtype)  # first the derivative, then the gradient, in place
        if self.nonlinearity == "relu":
            np.greater(h, 0, out=dG)  # relu' = [h_t > 0]
        else:
            np.multiply(h, h, out=dG)
            np.subtract(1, dG, out=dG)  # tanh' = 1 - h_t²
        if mask is not None:
            dG *= mask
        dh = dh_n
        for t in steps:
            dh_t = dout[t] + dh
            dG[t] *= dh_t
            dh = dG[t] @ w_hh
            if keep is not None:
                dh += dh_t * keep[t]
        return dG[None], None, dh, None, (dG,)


class LSTMLayer(RecurrentLayer):
    """LSTM gates i, f, g, o (PyTorch's order); internally o, i, f, g. See notes 003/004, LSTM."""

    n_gates, order, n_sigmoid = 4, (3, 0, 1, 2), 3

    def _forward_steps(self, G, hs, cs, w_hh, b_hn, steps, r, keep):
        _, T, B, H = G.shape
        tc = self.tanh_c = _POOL.take((T, B, H), hs.dtype)
        ig = np.empty((B, H), hs.dtype)
        hw = np.empty((4, B, H), hs.dtype)
        for t in steps:
            gt = G[:, t]
            gt += np.matmul(hs[t + r], w_hh, out=hw)  # one (batched) GEMM per step
            np.tanh(gt, out=gt)  # g = tanh; and σ(a) = (1 + tanh(a/2)) / 2 for o, i, f:
            s = gt[:3]
            s *= 0.5
            s += 0.5
            o, i, f, g = gt
            c = cs[t + 1 - r]
            np.multiply(f, cs[t + r], out=c)  # c_t = f * c_{t-1} + i * g
            np.multiply(i, g, out=ig)
            c += ig
            np.tanh(c, out=tc[t])
            np.multiply(o, tc[t], out=hs[t + 1 - r])  # h_t = o * tanh(c_t)
            if keep is not None:
                np.copyto(c, cs[t + r], where=keep[t])
                np.copyto(hs[t + 1 - r], hs[t + r], where=keep[t])
        return (tc,)

    def _backward_steps(self, dout, dh_n, dc_n, h_prev, w_hh, steps, mask, keep):
        T, B, H = dout.shape
        r = int(self.reverse)
        gates = self.G  # (4, T, B, H): o, i, f, g
        sig, (o, i, f, g) = gates[:3], gates
        tc, c_prev = self.tanh_c, self.cs[r : T + r]
        # Every factor that does not depend on the incoming gradient, for all steps at once:
        # dG_o = dh * tanh(c) σ'(o),  dG_{i,f,g} = dc * (g σ'(i), c_{t-1} σ'(f), i tanh'(g)).
        P = _POOL.take((4, T, B, H), dout.dtype)
        S = _POOL.take((3, T, B, H), dout.dtype)
        np.subtract(1, sig, out=S)
        S *= sig  # σ' = σ (1 - σ) for o, i, f
        np.multiply(tc, S[0], out=P[0])
        np.multiply(g, S[1], out=P[1])
        np.multiply(c_prev, S[2], out=P[2])
        np.multiply(g, g, out=P[3])
        np.subtract(1, P[3], out=P[3])
        P[3] *= i
        A = S[0]  # dc_t += dh_t * o * tanh'(c_t)
        np.multiply(tc, tc, out=A)
        np.subtract(1, A, out=A)
        A *= o
        F = f
        if mask is not None:
            P *= mask
            A *= mask
            F = f * mask + keep
        dh, dc = dh_n, dc_n
        hw = np.empty((4, B, H), dout.dtype)
        for t in steps:  # P is overwritten step by step with the gradients dG
            dh_t = dout[t] + dh
            dc_t = dh_t * A[t]
            dc_t += dc
            P[0, t] *= dh_t
            P[1:, t] *= dc_t
            dh = np.matmul(P[:, t], w_hh, out=hw).sum(0)  # one (batched) GEMM per step
            if keep is not None:
                dh += dh_t * keep[t]
            dc = dc_t * F[t]  # c_{t-1} reaches c_t through f
        return P, None, dh, dc, (P, S)


class GRULayer(RecurrentLayer):
    """GRU gates r, z, n (PyTorch's order); n = tanh(W_in x + b_in + r*(W_hn h + b_hn))."""

    n_gates, n_sigmoid = 3, 2

    def _prepare(self, weight_ih, weight_hh, bias_ih, bias_hh, H):
        scale = np.ones((3, 1), weight_ih.dtype)
        scale[:2] = 0.5
        bias = b_hn = None
        if bias_ih is not None:
            bias = bias_ih.reshape(3, H).copy()
            bias[:2] += bias_hh.reshape(3, H)[:2]  # b_hr, b_hz fold into the input bias; b_hn cannot
            bias *= scale
            b_hn = bias_hh[2 * H :]
        w_ih, w_hh = _gates(weight_ih, 3, None), _gates(weight_hh, 3, None)
        w_hh = np.ascontiguousarray((w_hh * scale[:, :, None]).transpose(0, 2, 1))
        return _with_bias(w_ih * scale[:, :, None], bias), w_hh, b_hn

    def _forward_steps(self, G, hs, cs, w_hh, b_hn, steps, r, keep):
        _, T, B, H = G.shape
        HW = self.hw = _POOL.take((3, T, B, H), hs.dtype)  # W_hh h_{t-1} (+ b_hn for n)
        tmp = np.empty((B, H), hs.dtype)
        for t in steps:
            gt, hw, h = G[:, t], HW[:, t], hs[t + r]
            np.matmul(h, w_hh, out=hw)  # one (batched) GEMM per step
            if b_hn is not None:
                hw[2] += b_hn
            rz = gt[:2]
            rz += hw[:2]
            np.tanh(rz, out=rz)  # σ(a) = (1 + tanh(a/2)) / 2 for r, z
            rz *= 0.5
            rz += 0.5
            n = gt[2]
            np.multiply(gt[0], hw[2], out=tmp)  # r * (W_hn h + b_hn)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(h, n, out=tmp)  # h_t = n + z * (h_{t-1} - n)
            tmp *= gt[1]
            np.add(n, tmp, out=hs[t + 1 - r])
            if keep is not None:
                np.copyto(hs[t + 1 - r], h, where=keep[t])
        return (HW,)

    def _backward_steps(self, dout, dh_n, dc_n, h_prev, w_hh, steps, mask, keep):
        T, B, H = dout.shape
        rg, z, n = self.G
        hw_n = self.hw[2]
        # Q = [dn, dr, dz, d(W_hn h)] per unit of dh_t, for all steps at once:
        # dn = (1-z)(1-n²), dr = dn (W_hn h + b_hn) σ'(r), dz = (h_{t-1} - n) σ'(z), dhn = dn r.
        Q = _POOL.take((4, T, B, H), dout.dtype)
        S = _POOL.take((2, T, B, H), dout.dtype)
        s0, s1 = S
        np.multiply(n, n, out=s0)
        np.subtract(1, s0, out=s0)
        np.subtract(1, z, out=s1)
        np.multiply(s0, s1, out=Q[0])
        np.multiply(Q[0], rg, out=Q[3])
        np.subtract(1, rg, out=s0)
        s0 *= Q[3]
        np.multiply(s0, hw_n, out=Q[1])
        np.subtract(h_prev, n, out=s0)
        s0 *= z
        np.multiply(s0, s1, out=Q[2])
        Z = z
        if mask is not None:
            Q *= mask
            Z = z * mask + keep
        dh = dh_n
        hw = np.empty((3, B, H), dout.dtype)
        for t in steps:  # Q is overwritten step by step with the gradients
            dh_t = dout[t] + dh
            Q[:, t] *= dh_t
            dh = np.matmul(Q[1:, t], w_hh, out=hw).sum(0)  # [dr, dz, dhn] · W_hh: one GEMM per step
            dh += dh_t * Z[t]  # h_{t-1} also reaches h_t through z
        dGx = _POOL.take((3, T, B, H), dout.dtype)  # input-side order r, z, n
        dGx[:2] = Q[1:3]
        dGx[2] = Q[0]
        return dGx, Q[1:], dh, None, (Q, S, dGx)


def _check_biases(bias_ih, bias_hh):
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError("recurrent kernels take both bias_ih and bias_hh, or neither")


def _layer(
    kernel, input, hx, weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse, lengths, nonlinearity="tanh"
):
    _check_biases(bias_ih, bias_hh)
    if lengths is not None:
        lengths = np.asarray(lengths._array if isinstance(lengths, Tensor) else lengths, np.int64)
    h0, c0 = hx if isinstance(hx, tuple) else (hx, None)
    return kernel.apply(
        input,
        h0,
        c0,
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
        batch_first=batch_first,
        reverse=reverse,
        lengths=lengths,
        nonlinearity=nonlinearity,
    )


def rnn_layer(
    input,
    hx,
    weight_ih,
    weight_hh,
    bias_ih=None,
    bias_hh=None,
    nonlinearity="tanh",
    batch_first=False,
    reverse=False,
    lengths=None,
):
    """One direction of one Elman RNN layer over a whole sequence: returns (output, h_n).

    ``input`` (T, B, I) (or (B, T, I) with ``batch_first``), ``hx`` (B, H);
    ``lengths`` (B,) ints for variable-length batches.
    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
    """
    return _layer(
        RNNLayer, input, hx, weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse, lengths, nonlinearity
    )


def lstm_layer(
    input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, batch_first=False, reverse=False, lengths=None
):
    """One direction of one LSTM layer: ``hx = (h0, c0)``; returns (output, (h_n, c_n))."""
    out, h, c = _layer(
        LSTMLayer, input, tuple(hx), weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse, lengths
    )
    return out, (h, c)


def gru_layer(
    input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, batch_first=False, reverse=False, lengths=None
):
    """One direction of one GRU layer: returns (output, h_n)."""
    return _layer(GRULayer, input, hx, weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse, lengths)


def _step(kernel, input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One time step = the layer kernel on a sequence of length 1: (B, I) -> state(s) (B, H)."""
    from soma.ops.shape import unsqueeze

    _check_biases(b_ih, b_hh)
    h0, c0 = hx if isinstance(hx, tuple) else (hx, None)
    outputs = kernel.apply(unsqueeze(input, 0), h0, c0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity)
    return outputs[1:] if c0 is not None else outputs[1]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) for one step, like ``torch.rnn_tanh_cell``."""
    return _step(RNNLayer, input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh) for one step, like ``torch.rnn_relu_cell``."""
    return _step(RNNLayer, input, hx, w_ih, w_hh, b_ih, b_hh, "relu")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``hx = (h, c)`` -> (h', c'), like ``torch.lstm_cell``."""
    return _step(LSTMLayer, input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: h -> h', like ``torch.gru_cell``."""
    return _step(GRULayer, input, hx, w_ih, w_hh, b_ih, b_hh)

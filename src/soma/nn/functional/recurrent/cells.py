"""The optimized cells: each one's forward step loop and backward-through-time loop (notes 003/004).

    RNN:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)            (or relu)
    LSTM: i, f, g, o = σ, σ, tanh, σ (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
          c_t = f * c_{t-1} + i * g          h_t = o * tanh(c_t)
    GRU:  r, z = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})
          n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
          h_t = (1 - z) * n + z * h_{t-1}

Every array is feature-major, a state is (H, B) and a step's gates are (n·H, B) in
internal order (:mod:`.layout`), so each gate is a contiguous block. Per step the
loops run one GEMM and a handful of elementwise ops into preallocated buffers
(``out=``). In backward, every derivative factor that does not depend on the incoming
gradient is computed for all steps at once before the loop (large arrays, few calls).

``forward_steps(gates, states, cell, w_hh, b_hn, steps, r, keep, nonlinearity)`` fills
``states`` (and ``cell``) and returns the arrays backward needs by name;
``backward_steps(saved, dout, dh_n, dc_n, w_hh_t, steps, r, nonlinearity)`` returns the gate gradients
as GEMM rows (input side, and hidden side where it differs), dh_0, dc_0 and its scratch.
"""

import numpy as np

from soma.nn.functional.recurrent.bptt import RecurrentLayer, to_gate_rows
from soma.nn.functional.recurrent.workspace import POOL

__all__ = ["RNNLayer", "LSTMLayer", "GRULayer"]


class RNNLayer(RecurrentLayer):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu); see notes 004, RNN."""

    @staticmethod
    def forward_steps(gates, states, cell, w_hh, b_hn, steps, r, keep, nonlinearity):
        relu, w_hh = nonlinearity == "relu", w_hh[0]
        tmp = np.empty(states.shape[1:], states.dtype, like=states)
        for t in steps:
            a = gates[t]
            a += np.matmul(w_hh, states[t + r], out=tmp)  # one GEMM per step
            new = states[t + 1 - r]
            if relu:
                np.maximum(a, 0, out=new)
            else:
                np.tanh(a, out=new)
            if keep is not None:
                np.copyto(new, states[t + r], where=keep[t])
        return {}

    @staticmethod
    def backward_steps(s, dout, dh_n, dc_n, w_hh_t, steps, r, nonlinearity="tanh"):
        T = dout.shape[0]
        h = s.hidden[1 - r : T + 1 - r].transpose(0, 2, 1)  # (T, H, B) h_t
        dG = POOL.take(dout.shape, dout.dtype, dout)  # first the derivative, then the gradient, in place
        if nonlinearity == "relu":
            np.greater(h, 0, out=dG)  # relu' = [h_t > 0]
        else:
            np.multiply(h, h, out=dG)
            np.subtract(1, dG, out=dG)  # tanh' = 1 - h_t²
        keep = None
        if s.valid is not None:
            dG *= s.valid
            keep = ~s.valid
        w_hh_t = w_hh_t[0]
        dh = dh_n
        for t in steps:
            dh_t = dout[t] + dh
            dG[t] *= dh_t
            dh = w_hh_t @ dG[t]  # dh_{t-1} = W_hh^T dG_t
            if keep is not None:
                dh += dh_t * keep[t]
        return to_gate_rows(dG), None, dh, None, (dG,)


class LSTMLayer(RecurrentLayer):
    """LSTM gates i, f, g, o (PyTorch's order); internally o, i, f, g. See notes 003/004, LSTM."""

    mode, n_gates, order, n_sigmoid = "LSTM", 4, (3, 0, 1, 2), 3

    @staticmethod
    def forward_steps(gates, states, cell, w_hh, b_hn, steps, r, keep, nonlinearity):
        T, nH, B = gates.shape
        H = nH // 4
        cell_tanh = POOL.take((T, H, B), states.dtype, states)
        by_gate = gates.reshape(T, 4, H, B)
        hw, ig = np.empty((4, H, B), states.dtype, like=states), np.empty((H, B), states.dtype, like=states)
        for t in steps:
            a = by_gate[t]
            np.matmul(w_hh, states[t + r], out=hw)  # one GEMM per step (batched over the gates)
            a += hw
            np.tanh(a, out=a)  # g = tanh; and σ(a) = (1 + tanh(a/2)) / 2 for o, i, f:
            sig = a[:3]
            sig *= 0.5
            sig += 0.5
            o, i, f, g = a
            c = cell[t + 1 - r]
            np.multiply(f, cell[t + r], out=c)  # c_t = f * c_{t-1} + i * g
            np.multiply(i, g, out=ig)
            c += ig
            np.tanh(c, out=cell_tanh[t])
            np.multiply(o, cell_tanh[t], out=states[t + 1 - r])  # h_t = o * tanh(c_t)
            if keep is not None:
                np.copyto(c, cell[t + r], where=keep[t])
                np.copyto(states[t + 1 - r], states[t + r], where=keep[t])
        return {"gates": gates, "cell_tanh": cell_tanh}

    @staticmethod
    def backward_steps(s, dout, dh_n, dc_n, w_hh_t, steps, r, nonlinearity=None):
        T, H, B = dout.shape
        by_gate = s.gates.reshape(T, 4, H, B)
        sig, o, i, f, g = by_gate[:, :3], by_gate[:, 0], by_gate[:, 1], by_gate[:, 2], by_gate[:, 3]
        cell_tanh, c_prev = s.cell_tanh, s.cell[r : T + r]
        # Every factor that does not depend on the incoming gradient, for all steps at once:
        # dG_o = dh * tanh(c) σ'(o),  dG_{i,f,g} = dc * (g σ'(i), c_{t-1} σ'(f), i tanh'(g)).
        factors = POOL.take((T, 4, H, B), dout.dtype, dout)
        slopes = POOL.take((T, 3, H, B), dout.dtype, dout)
        np.subtract(1, sig, out=slopes)
        slopes *= sig  # σ' = σ (1 - σ) for o, i, f
        np.multiply(cell_tanh, slopes[:, 0], out=factors[:, 0])
        np.multiply(g, slopes[:, 1], out=factors[:, 1])
        np.multiply(c_prev, slopes[:, 2], out=factors[:, 2])
        np.multiply(g, g, out=factors[:, 3])
        np.subtract(1, factors[:, 3], out=factors[:, 3])
        factors[:, 3] *= i
        through_h = slopes[:, 0]  # dc_t += dh_t * o * tanh'(c_t)
        np.multiply(cell_tanh, cell_tanh, out=through_h)
        np.subtract(1, through_h, out=through_h)
        through_h *= o
        forget, keep = f, None
        if s.valid is not None:
            factors *= s.valid[:, None]
            through_h *= s.valid
            keep = ~s.valid
            forget = f * s.valid + keep
        dh, dc = dh_n, dc_n
        dh_buf, dc_buf, dh_t, dc_t = (np.empty((H, B), dout.dtype, like=dout) for _ in range(4))
        by_gate_buf = np.empty((4, H, B), dout.dtype, like=dout)
        for t in steps:  # the factors are overwritten step by step with the gradients dG
            np.add(dout[t], dh, out=dh_t)
            np.multiply(dh_t, through_h[t], out=dc_t)
            dc_t += dc
            d = factors[t]
            d[0] *= dh_t
            d[1:] *= dc_t
            dh = np.matmul(w_hh_t, d, out=by_gate_buf).sum(0, out=dh_buf)  # Σ_k W_hh,k^T dG_k: one GEMM
            if keep is not None:
                dh += dh_t * keep[t]
            dc = np.multiply(dc_t, forget[t], out=dc_buf)  # c_{t-1} reaches c_t through f
        dh, dc = dh.copy(), dc.copy()
        return to_gate_rows(factors.reshape(T, 4 * H, B)), None, dh, dc, (factors, slopes)


class GRULayer(RecurrentLayer):
    """GRU gates r, z, n (PyTorch's order, kept); n = tanh(W_in x + b_in + r*(W_hn h + b_hn))."""

    mode, n_gates, n_sigmoid = "GRU", 3, 2
    input_side_order = (2, 0, 1)  # backward's rows are dn, dr, dz, d(W_hn h): the input side is n, r, z

    @classmethod
    def prepare(cls, weight_ih, weight_hh, bias_ih, bias_hh):
        if bias_ih is None:
            return super().prepare(weight_ih, weight_hh, None, None)
        H = weight_hh.shape[1]
        folded = bias_ih.copy()
        folded[: 2 * H] += bias_hh[: 2 * H]  # b_hr, b_hz fold into the input bias; b_hn cannot
        w_ih, w_hh, _ = super().prepare(weight_ih, weight_hh, folded, np.zeros_like(bias_hh))
        return w_ih, w_hh, bias_hh[2 * H :, None]

    @staticmethod
    def forward_steps(gates, states, cell, w_hh, b_hn, steps, r, keep, nonlinearity):
        T, nH, B = gates.shape
        H = nH // 3
        hidden_proj = POOL.take((T, H, B), states.dtype, states)  # W_hn h_{t-1} + b_hn
        state_minus_candidate = POOL.take((T, H, B), states.dtype, states)  # h_{t-1} - n_t
        by_gate = gates.reshape(T, 3, H, B)
        hw, tmp = np.empty((3, H, B), states.dtype, like=states), np.empty((H, B), states.dtype, like=states)
        for t in steps:
            a, h = by_gate[t], states[t + r]
            np.matmul(w_hh, h, out=hw)  # one GEMM per step (batched over the gates)
            hn = hidden_proj[t]
            if b_hn is None:
                np.copyto(hn, hw[2])
            else:
                np.add(hw[2], b_hn, out=hn)
            rz = a[:2]
            rz += hw[:2]
            np.tanh(rz, out=rz)  # σ(a) = (1 + tanh(a/2)) / 2 for r, z
            rz *= 0.5
            rz += 0.5
            n = a[2]
            np.multiply(a[0], hn, out=tmp)  # r * (W_hn h + b_hn)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(h, n, out=state_minus_candidate[t])  # h_t = n + z * (h_{t-1} - n)
            np.multiply(state_minus_candidate[t], a[1], out=tmp)
            np.add(n, tmp, out=states[t + 1 - r])
            if keep is not None:
                np.copyto(states[t + 1 - r], h, where=keep[t])
        return {"gates": gates, "hidden_proj": hidden_proj, "state_minus_candidate": state_minus_candidate}

    @staticmethod
    def backward_steps(s, dout, dh_n, dc_n, w_hh_t, steps, r, nonlinearity=None):
        T, H, B = dout.shape
        by_gate = s.gates.reshape(T, 3, H, B)
        rg, z, n = by_gate[:, 0], by_gate[:, 1], by_gate[:, 2]
        # [dn, dr, dz, d(W_hn h)] per unit of dh_t, for all steps at once:
        # dn = (1-z)(1-n²), dr = dn (W_hn h + b_hn) σ'(r), dz = (h_{t-1} - n) σ'(z), dhn = dn r.
        factors = POOL.take((T, 4, H, B), dout.dtype, dout)
        scratch = POOL.take((T, 2, H, B), dout.dtype, dout)
        s0, s1 = scratch[:, 0], scratch[:, 1]
        np.multiply(n, n, out=s0)
        np.subtract(1, s0, out=s0)
        np.subtract(1, z, out=s1)
        np.multiply(s0, s1, out=factors[:, 0])
        np.multiply(factors[:, 0], rg, out=factors[:, 3])
        np.subtract(1, rg, out=s0)
        s0 *= factors[:, 3]
        np.multiply(s0, s.hidden_proj, out=factors[:, 1])
        np.multiply(s.state_minus_candidate, z, out=s0)
        np.multiply(s0, s1, out=factors[:, 2])
        through_z = z
        if s.valid is not None:
            factors *= s.valid[:, None]
            through_z = z * s.valid + ~s.valid
        dh = dh_n
        dh_buf, dh_t = np.empty_like(dout, shape=(H, B)), np.empty_like(dout, shape=(H, B))
        by_gate_buf = np.empty_like(dout, shape=(3, H, B))
        for t in steps:  # the factors are overwritten step by step with the gradients
            np.add(dout[t], dh, out=dh_t)
            d = factors[t]
            d *= dh_t
            dh = np.matmul(w_hh_t, d[1:], out=by_gate_buf).sum(0, out=dh_buf)  # W_hh^T [dr, dz, dhn]: one GEMM
            dh += dh_t * through_z[t]  # h_{t-1} also reaches h_t through z
        rows = to_gate_rows(factors.reshape(T, 4 * H, B))
        # input side n, r, z (see input_side_order); hidden side r, z, W_hn h as PyTorch stacks W_hh
        return rows[: 3 * H], rows[H:], dh.copy(), None, (factors, scratch, rows)

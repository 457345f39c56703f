"""``soma explain attention``: one head of self-attention worked by hand, forward and backward.

Three tokens of two features go through ``nn.MultiheadAttention(2, num_heads=1, bias=False)``
with hand-set weights and a causal mask: Q = X·W_qᵀ, K = X·W_kᵀ, V = X·W_vᵀ, the scores
Q·Kᵀ/√d, the mask, the softmax row by row, the weighted sum P·V and the output projection;
then L = ½ Σ (y − t)² and every gradient back to W_q, W_k, W_v. Each number is soma's:
the intermediate quantities are the same ops the layer runs (their gradients from
``retain_grad``), checked against the layer's own output and its parameters' gradients.
"""

import math

import numpy as np

import soma
from soma import nn
from soma.explain.examples_common import F64, Example, verdict
from soma.explain.report import Report
from soma.nn.functional.affine import linear
from soma.nn.functional.attention import attention_weights

__all__ = ["EXAMPLES_ATTENTION", "attention_report"]

X = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
W_Q = [[1.0, 0.0], [1.0, 1.0]]
W_K = [[1.0, 1.0], [0.0, 1.0]]
W_V = [[1.0, 2.0], [0.0, 1.0]]
W_O = [[1.0, 0.0], [0.0, 1.0]]
TARGET = [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
D_HEAD = 2


def _layer():
    mha = nn.MultiheadAttention(2, 1, bias=False, dtype=F64)
    with soma.no_grad():
        mha.in_proj_weight._array[...] = np.array(W_Q + W_K + W_V)
        mha.out_proj.weight._array[...] = np.array(W_O)
    return mha


def _chain(mha, x, mask):
    """The layer's computation, op by op, with every intermediate kept (and its gradient retained)."""
    w = mha.in_proj_weight
    q, k, v = linear(x, w[0:2]), linear(x, w[2:4]), linear(x, w[4:6])
    p = attention_weights(q, k, mask, safe=False)
    o = p @ v
    y = mha.out_proj(o)
    for t in (q, k, v, p, o, y):
        t.retain_grad()
    return dict(Q=q, K=k, V=v, P=p, O=o, Y=y)


def _row_products(a, b):
    """'{} × {} + {} × {}' and its numbers for the dot product of two rows."""
    return " + ".join(["{} × {}"] * len(a)), tuple(v for pair in zip(a, b, strict=True) for v in pair)


def _matrices(report, section, values, names):
    for name in names:
        report.matrix(section, name, values[name], name=name)


def _run():
    """The layer's output and gradients, then the same computation op by op; returns values, gradients, loss."""
    mha = _layer()
    x = soma.tensor(np.array(X))
    t = soma.tensor(np.array(TARGET))
    mask = soma.tensor(np.triu(np.ones((3, 3), bool), 1))  # True = may not attend (the module's convention)
    # the layer itself: output, weights, and its parameters' gradients
    y_layer, p_layer = mha(x, x, x, attn_mask=mask)
    (0.5 * ((y_layer - t) ** 2).sum()).backward()
    # the same computation op by op, for the intermediate values and their gradients
    grads_layer = {"W_q": mha.in_proj_weight.grad._array[0:2].copy(), "W_k": mha.in_proj_weight.grad._array[2:4].copy(),
                   "W_v": mha.in_proj_weight.grad._array[4:6].copy()}
    mha.zero_grad()
    tensors = _chain(mha, x, soma.tensor(np.where(mask._array, -np.inf, 0.0)))
    loss = 0.5 * ((tensors["Y"] - t) ** 2).sum()
    loss.backward()
    grad_w = mha.in_proj_weight.grad._array
    assert np.allclose(tensors["Y"]._array, y_layer._array) and np.allclose(tensors["P"]._array, p_layer._array)
    assert np.allclose(grad_w, np.concatenate(list(grads_layer.values())))
    val = {k: v._array for k, v in tensors.items()}
    val["dW"] = grad_w
    d = {k: v.grad._array for k, v in tensors.items()}
    return val, d, float(loss.item())


def _layer_section(report):
    s = report.section("The layer: nn.MultiheadAttention(embed_dim=2, num_heads=1, bias=False)")
    report.text(s, "Three tokens x_1, x_2, x_3 (the rows of X). in_proj_weight stacks W_q, W_k, W_v; "
                   "out_proj.weight is W_o. The causal mask lets token i attend to tokens j ≤ i only.")
    weights = {"X": np.array(X), "W_q": np.array(W_Q), "W_k": np.array(W_K), "W_v": np.array(W_V),
               "W_o": np.array(W_O)}
    _matrices(report, s, weights, weights)


def _projections_section(report, val):
    s = report.section("Queries, keys, values: Q = X·W_qᵀ, K = X·W_kᵀ, V = X·W_vᵀ")
    for name, w in (("Q", W_Q), ("K", W_K), ("V", W_V)):
        for i in range(3):
            for c in range(2):
                template, numbers = _row_products(X[i], w[c])
                report.equation(s, f"{name}[{i + 1},{c + 1}]", val[name][i, c], formula=f"x_{i + 1}·w_{c + 1}",
                                numbers=template, numbers_values=numbers, record=False)
    _matrices(report, s, val, ["Q", "K", "V"])


def _scores_section(report, val, scores):
    s = report.section(f"Scores S = Q·Kᵀ/√d (d = {D_HEAD}), then the mask: −∞ where j > i")
    for i in range(3):
        for j in range(3):
            template, numbers = _row_products(val["Q"][i], val["K"][j])
            masked = j > i
            report.equation(s, f"s_{i + 1}{j + 1}", -np.inf if masked else scores[i, j],
                            formula=f"q_{i + 1}·k_{j + 1}/√d" + (" + (−∞)" if masked else ""),
                            numbers=f"({template}) / √{D_HEAD}" + (" + (−∞)" if masked else ""),
                            numbers_values=numbers, note="masked: j > i" if masked else None)


def _softmax_section(report, val, scores):
    s = report.section("Softmax row by row: p_ij = e^(s_ij) / Σ_m e^(s_im) (masked keys get e^(−∞) = 0)")
    for i in range(3):
        visible = scores[i, : i + 1]
        denominator = " + ".join(["e^{}"] * (i + 1))
        for j in range(i + 1):
            report.equation(s, f"p_{i + 1}{j + 1}", val["P"][i, j], numbers=f"e^{{}} / ({denominator})",
                            numbers_values=(scores[i, j], *visible))
    report.matrix(s, "P (each row sums to 1)", val["P"], name="P")


def _weighted_sum_section(report, val):
    s = report.section("Weighted sum O = P·V, then Y = O·W_oᵀ")
    for i in range(3):
        for c in range(2):
            template, numbers = _row_products(val["P"][i, : i + 1], val["V"][: i + 1, c])
            report.equation(s, f"o_{i + 1}{c + 1}", val["O"][i, c], formula=f"Σ_j p_{i + 1}j·v_j{c + 1}",
                            numbers=template, numbers_values=numbers)
    report.matrix(s, "Y", val["Y"], name="Y")


def _loss_section(report, d, loss):
    s = report.section("Loss L = ½ Σ (y − t)² and its gradient dL/dY = Y − T")
    report.matrix(s, "T", np.array(TARGET))
    report.equation(s, "L", loss)
    report.matrix(s, "dL/dY", d["Y"], name="dL/dY")
    s = report.section("Backward through the weighted sum: dL/dO = dL/dY·W_o, dL/dV = Pᵀ·dL/dO, dL/dP = dL/dO·Vᵀ")
    _matrices(report, s, {"dL/dO": d["O"], "dL/dV": d["V"], "dL/dP": d["P"]}, ["dL/dO", "dL/dV", "dL/dP"])


def _softmax_backward_section(report, val, d):
    """dL/dS row by row; returns dS."""
    s = report.section("Backward through the softmax, row by row: dL/ds_ij = p_ij·(dL/dp_ij − Σ_m dL/dp_im·p_im)")
    ds = val["P"] * (d["P"] - (d["P"] * val["P"]).sum(axis=1, keepdims=True))
    for i in range(3):
        template, numbers = _row_products(d["P"][i, : i + 1], val["P"][i, : i + 1])
        dot = float(np.dot(d["P"][i], val["P"][i]))
        report.equation(s, f"Σ_m dL/dp_{i + 1}m·p_{i + 1}m", dot, numbers=template, numbers_values=numbers,
                        record=False)
        for j in range(i + 1):
            report.equation(s, f"dL/ds_{i + 1}{j + 1}", ds[i, j], numbers="{} × ({} − {})",
                            numbers_values=(val["P"][i, j], d["P"][i, j], dot))
    report.text(s, "Masked scores get no gradient (their p is 0).")
    return ds


def _weights_backward_section(report, d, grad_w):
    s = report.section("Back to the queries, keys and the weights: dL/dQ = dS·K/√d, dL/dK = dSᵀ·Q/√d, "
                       "dL/dW = (dL/d·)ᵀ·X")
    _matrices(report, s, {"dL/dQ": d["Q"], "dL/dK": d["K"]}, ["dL/dQ", "dL/dK"])
    for name, rows in (("W_q", slice(0, 2)), ("W_k", slice(2, 4)), ("W_v", slice(4, 6))):
        report.matrix(s, f"dL/d{name} (= the layer's in_proj_weight.grad rows {rows.start}..{rows.stop - 1})",
                      grad_w[rows], name=f"dL/d{name}")


def attention_report(digits=6):
    val, d, loss = _run()
    scale = 1 / math.sqrt(D_HEAD)
    scores = val["Q"] @ val["K"].T * scale
    report = Report("Attention: one head of causal self-attention, forward and backward, by hand", digits)
    _layer_section(report)
    _projections_section(report, val)
    _scores_section(report, val, scores)
    _softmax_section(report, val, scores)
    _weighted_sum_section(report, val)
    _loss_section(report, d, loss)
    ds = _softmax_backward_section(report, val, d)
    _weights_backward_section(report, d, val["dW"])
    assert np.allclose(d["Q"], ds @ val["K"] * scale) and np.allclose(d["K"], ds.T @ val["Q"] * scale)
    return verdict(report, "The notes name the attention model among the recurrent family without working an "
                           "example; this one is soma's own, every number from nn.MultiheadAttention and autograd.")


EXAMPLES_ATTENTION = [
    Example("attention", "soma-attention", "one head of causal self-attention, forward and backward (soma's own)",
            lambda digits: attention_report(digits)),
]

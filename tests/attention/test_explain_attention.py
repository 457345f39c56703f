"""`soma explain attention`: every number against PyTorch's MultiheadAttention with the same weights."""

import numpy as np
import torch

from soma.explain import attention as A
from soma.explain.cli import main
from soma.explain.examples import EXAMPLES, explain_example


def _torch_reference():
    mha = torch.nn.MultiheadAttention(2, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(A.W_Q + A.W_K + A.W_V, dtype=torch.float64))
        mha.out_proj.weight.copy_(torch.tensor(A.W_O, dtype=torch.float64))
    x = torch.tensor(A.X, dtype=torch.float64)
    y, p = mha(x, x, x, attn_mask=torch.triu(torch.ones(3, 3, dtype=torch.bool), 1))
    loss = 0.5 * ((y - torch.tensor(A.TARGET, dtype=torch.float64)) ** 2).sum()
    loss.backward()
    return y.detach().numpy(), p.detach().numpy(), loss.item(), mha.in_proj_weight.grad.numpy()


def test_numbers_match_torch():
    values = explain_example("attention").values
    y, p, loss, grad = _torch_reference()
    np.testing.assert_allclose(values["Y"], y, rtol=1e-12)
    np.testing.assert_allclose(values["P"], p, rtol=1e-12)
    assert abs(values["L"] - loss) < 1e-12
    np.testing.assert_allclose(np.concatenate([values["dL/dW_q"], values["dL/dW_k"], values["dL/dW_v"]]), grad,
                               rtol=1e-12, atol=1e-15)
    # the softmax row by row: p_32 = e^s32 / Σ e^s3m with s = q·k/√2
    q, k = np.array(A.X) @ np.array(A.W_Q).T, np.array(A.X) @ np.array(A.W_K).T
    s = q[2] @ k.T / np.sqrt(2)
    assert abs(values["p_32"] - np.exp(s[1]) / np.exp(s).sum()) < 1e-12
    assert values["s_13"] == -np.inf and np.allclose(values["P"].sum(axis=1), 1)


def test_cli(capsys):
    assert "attention" in EXAMPLES
    assert main(["attention", "--digits", "4"]) == 0
    text = capsys.readouterr().out
    assert "p_32 = e^2.121 / (e^0.7071 + e^2.121 + e^2.828) = 0.3057" in text
    assert "dL/ds_33" in text and text.rstrip().endswith("autograd.")

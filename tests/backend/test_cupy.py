"""The CuPy backend, where a GPU exists (CI has none: these run on a GPU machine, see README).

The op table runs on ``device="cuda"`` and must match the CPU to floating-point reordering
tolerances (cuBLAS and CUDA's libm round differently from OpenBLAS and glibc).
"""

import importlib.util
import os

import numpy as np
import pytest

import soma

pytestmark = pytest.mark.skipif(not soma.cuda.is_available(), reason="needs CuPy and a CUDA GPU (soma[cuda])")

_spec = importlib.util.spec_from_file_location(
    "op_table", os.path.join(os.path.dirname(__file__), "..", "ops", "test_op_table.py"))
op_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(op_table)


def _run(fn, arrays, device):
    leaves = [soma.tensor(a, requires_grad=True, device=device) for a in arrays]
    out = fn(*leaves)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    total = sum((o * o).sum() for o in outs if o.requires_grad)
    if not isinstance(total, int):
        total.backward()
    return outs, leaves


@pytest.mark.parametrize("name, fs, ft, shapes, options", op_table.CASES, ids=[c[0] for c in op_table.CASES])
def test_op_on_the_gpu_matches_the_cpu(name, fs, ft, shapes, options):
    arrays = op_table._inputs(shapes, options, np.float64, 7)
    cpu_outs, cpu_leaves = _run(fs, arrays, "cpu")
    soma.set_default_device("cuda")
    try:
        gpu_outs, gpu_leaves = _run(fs, arrays, "cuda")
    finally:
        soma.set_default_device(None)
    for c, g in zip(cpu_outs, gpu_outs):
        assert g.device.type == "cuda" and g.dtype == c.dtype
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-9, atol=1e-12)
    for c, g in zip(cpu_leaves, gpu_leaves):
        if c.grad is not None:
            np.testing.assert_allclose(g.grad.cpu().numpy(), c.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_a_small_model_trains_on_the_gpu():
    soma.manual_seed(0)
    model = soma.nn.Sequential(soma.nn.Linear(8, 16), soma.nn.Tanh(), soma.nn.Linear(16, 1)).to("cuda")
    optimizer = soma.optim.SGD(model.parameters(), lr=0.1)
    x, y = soma.randn(64, 8, device="cuda"), soma.randn(64, 1, device="cuda")
    first = None
    for _ in range(50):
        optimizer.zero_grad()
        loss = soma.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
    assert loss.item() < first and next(model.parameters()).device.type == "cuda"

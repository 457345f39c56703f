"""Every op of the op table on the strict backend (arrays that refuse implicit NumPy conversion).

The same function of the same inputs runs on the CPU and on the strict device; values,
dtypes, devices and gradients must be identical (same NumPy kernels underneath), and any
array made or converted outside :mod:`soma.backend` raises inside the strict array.
"""

import importlib.util
import os

import numpy as np
import pytest
from same_numbers import assert_same_on_device

import soma

_spec = importlib.util.spec_from_file_location(
    "op_table", os.path.join(os.path.dirname(__file__), "..", "ops", "test_op_table.py"))
op_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(op_table)


@pytest.mark.parametrize("name, fs, ft, shapes, options", op_table.CASES, ids=[c[0] for c in op_table.CASES])
def test_op_runs_on_the_strict_backend(strict_device, name, fs, ft, shapes, options):
    # the tensors the rows make themselves (indices) go to the default device, the strict one during its run
    assert_same_on_device(fs, op_table._inputs(shapes, options, np.float64, 7), strict_device)


def test_the_strict_array_refuses_implicit_conversion(strict_device):
    x = soma.randn(3, device=strict_device)
    with pytest.raises(TypeError, match="cpu"):
        x.numpy()
    with pytest.raises(TypeError):
        np.asarray(x._array)
    with pytest.raises(TypeError, match="NumPy array"):
        x._array + np.ones(3)
    assert x.cpu().device == soma.device("cpu") and x.to("cpu").numpy().shape == (3,)


def test_device_transfer_is_differentiable(strict_device):
    x = soma.randn(3, dtype=soma.float64, requires_grad=True)
    y = (x._to_device(strict_device, "test") * 2).sum()
    y.backward()
    assert x.grad.device == soma.device("cpu") and np.allclose(x.grad.numpy(), 2)

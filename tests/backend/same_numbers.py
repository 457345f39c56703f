"""Run a function of leaf tensors on the CPU and on another device, and require the same numbers.

The strict backend's tests share this: the same NumPy inputs become leaves on each device, a
seeded weighted sum of the outputs is differentiated, and values, dtypes, devices and gradients
must be identical (the same NumPy kernels run underneath), while any array made or converted
outside :mod:`soma.backend` raises inside the strict array.
"""

import numpy as np

import soma


def _outputs(value):
    if isinstance(value, (tuple, list)):
        return [o for v in value for o in _outputs(v)]
    return [value]


def run(fn, arrays, device):
    """``fn`` of leaves holding ``arrays`` on ``device`` (float arrays require grad), its outputs backpropagated."""
    leaves = [soma.tensor(a, requires_grad=a.dtype.kind == "f", device=device) for a in arrays]
    outs = _outputs(fn(*leaves))
    rng = np.random.default_rng(5)
    total = None
    for o in outs:
        if o.requires_grad:
            seed = soma.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=device)
            term = (o * seed).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    return outs, leaves


def assert_same_on_device(fn, arrays, device):
    """``fn`` gives on ``device`` the CPU's values, dtypes and gradients, every result living on ``device``.

    Tensors ``fn`` makes itself (index tensors, ``soma.tensor(...)``) land on the default device,
    which is ``device`` during its run there.
    """
    cpu_outs, cpu_leaves = run(fn, arrays, "cpu")
    soma.set_default_device(device)
    try:
        dev_outs, dev_leaves = run(fn, arrays, device)
    finally:
        soma.set_default_device(None)
    assert len(dev_outs) == len(cpu_outs)
    for c, d in zip(cpu_outs, dev_outs):
        assert d.device == soma.device(device, 0) and d.dtype == c.dtype and d.shape == c.shape
        np.testing.assert_array_equal(d.detach().cpu().numpy(), c.detach().numpy())
    for c, d in zip(cpu_leaves, dev_leaves):
        assert (c.grad is None) == (d.grad is None)
        if c.grad is not None:
            assert d.grad.device == soma.device(device, 0)
            np.testing.assert_array_equal(d.grad.cpu().numpy(), c.grad.numpy())

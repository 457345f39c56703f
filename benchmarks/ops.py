"""Per-op overhead: what recording and back-propagating one tiny op costs.

On tiny tensors the arithmetic is nothing; the time is the framework's bookkeeping
per op (wrapping, recording the node, the backward engine). The NumPy column does
the same arithmetic by hand, with no graph at all: the floor.
"""

import numpy as np

from benchmarks.harness import Workload


def _elementwise_soma():
    import soma

    a = soma.randn(4, 4, requires_grad=True)
    b = soma.randn(4, 4, requires_grad=True)

    def step():
        (a * b).sum().backward()

    return step


def _elementwise_torch():
    import torch

    a = torch.randn(4, 4, requires_grad=True)
    b = torch.randn(4, 4, requires_grad=True)

    def step():
        (a * b).sum().backward()

    return step


def _elementwise_numpy():
    a = np.random.randn(4, 4).astype(np.float32)
    b = np.random.randn(4, 4).astype(np.float32)
    grad_a = np.zeros_like(a)
    grad_b = np.zeros_like(b)

    def step():
        (a * b).sum()
        g = np.ones_like(a)
        grad_a.__iadd__(g * b)
        grad_b.__iadd__(g * a)

    return step


def _matmul_soma():
    import soma

    a = soma.randn(2, 2, requires_grad=True)
    b = soma.randn(2, 2, requires_grad=True)

    def step():
        (a @ b).sum().backward()

    return step


def _matmul_torch():
    import torch

    a = torch.randn(2, 2, requires_grad=True)
    b = torch.randn(2, 2, requires_grad=True)

    def step():
        (a @ b).sum().backward()

    return step


def _matmul_numpy():
    a = np.random.randn(2, 2).astype(np.float32)
    b = np.random.randn(2, 2).astype(np.float32)
    grad_a = np.zeros_like(a)
    grad_b = np.zeros_like(b)

    def step():
        (a @ b).sum()
        g = np.ones((2, 2), np.float32)
        grad_a.__iadd__(g @ b.T)
        grad_b.__iadd__(a.T @ g)

    return step


def _forward_soma():
    import soma

    a = soma.randn(4, 4, requires_grad=True)
    b = soma.randn(4, 4)

    def step():
        a * b

    return step


def _forward_torch():
    import torch

    a = torch.randn(4, 4, requires_grad=True)
    b = torch.randn(4, 4)

    def step():
        a * b

    return step


def workloads():
    return [
        Workload("op: mul 4x4 forward (recorded)", _forward_soma, _forward_torch),
        Workload("op: mul+sum 4x4 forward+backward", _elementwise_soma, _elementwise_torch, _elementwise_numpy),
        Workload("op: matmul+sum 2x2 forward+backward", _matmul_soma, _matmul_torch, _matmul_numpy),
    ]

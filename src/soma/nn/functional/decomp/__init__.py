"""Decompositions: fused neural-network kernels written again in differentiable primitive ops.

A fused kernel (convolution, a loss, layer norm) computes its forward and backward on
arrays, fast. For higher-order gradients (``create_graph=True``) the engine needs the
backward to be differentiable; each module here sets ``composite`` on the kernels of
one family: the same forward in primitives whose formulas are known, which the engine
then differentiates (see :mod:`soma.autograd.graph`). They load on first use, so they
cost nothing to programs that never differentiate twice. The tests check each against
the fused kernel (same values, same first derivatives) and against PyTorch's second
derivatives.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

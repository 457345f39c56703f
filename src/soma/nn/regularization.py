"""Regularization helpers: L1 and L2 penalties to add to a loss, and the max-norm weight constraint.

The notes (002) regularize by adding a penalty on the weights to the loss:

* L1 (lasso):  E' = E + λ·Σ|w|   — pushes weights to exactly 0 (sparse models)
* L2 (ridge):  E' = E + λ·Σw²    — shrinks all weights (weight decay)

With E = 0.4, w = (0.5, -0.3) and λ = 0.1 these give 0.48 and 0.434. Note the
optimizers' ``weight_decay=λ`` adds λw to the gradient, which corresponds to a
penalty ½λΣw², not λΣw².

Max-norm (Srebro et al.; used with dropout): after each update, rescale every
neuron's incoming weight vector whose L2 norm exceeds c back to norm c.
"""

import numpy as np

from soma.autograd.function import mark_dirty
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty", "MaxNorm"]


def _tensors(parameters):
    if isinstance(parameters, Module):
        return list(parameters.parameters())
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def l1_penalty(parameters, weight=1.0):
    """λ·Σ|w| over the given tensors (a tensor, an iterable of tensors, or a module's parameters).

    Example (notes 002)::

        >>> w = soma.tensor([0.5, -0.3], requires_grad=True)
        >>> 0.4 + nn.l1_penalty(w, 0.1)
        tensor(0.48)
    """
    tensors = _tensors(parameters)
    if not tensors:
        raise ValueError("l1_penalty: no tensors given")
    total = tensors[0].abs().sum()
    for t in tensors[1:]:
        total = total + t.abs().sum()
    return total * weight


def l2_penalty(parameters, weight=1.0):
    """λ·Σw² over the given tensors (no ½ factor, as in the notes: 0.4 + 0.1·0.34 = 0.434)."""
    tensors = _tensors(parameters)
    if not tensors:
        raise ValueError("l2_penalty: no tensors given")
    total = (tensors[0] * tensors[0]).sum()
    for t in tensors[1:]:
        total = total + (t * t).sum()
    return total * weight


class MaxNorm:
    """Constrain each neuron's incoming weights to ‖w‖₂ ≤ ``max_value`` (applied in place).

    For a weight of shape (out, in, ...) each slice ``w[k]`` is one neuron's incoming
    weights; slices whose norm exceeds the limit are scaled by max_value/(‖w[k]‖ + 1e-7)
    (``torch.renorm``'s rule). Call it after ``optimizer.step()``; given a module it
    constrains every parameter named ``weight`` with two or more dimensions.

    Args:
        max_value: the largest allowed norm c (Keras's default 3).
        dim: the dimension indexing the neurons (0 in PyTorch's layout).

    Example::

        >>> constraint = nn.MaxNorm(3.0)
        >>> optimizer.step(); constraint(model)
    """

    def __init__(self, max_value=3.0, dim=0):
        if max_value <= 0:
            raise ValueError(f"MaxNorm: max_value must be positive, got {max_value}")
        self.max_value = max_value
        self.dim = dim

    def _targets(self, target):
        if isinstance(target, Module):
            return [p for name, p in target.named_parameters()
                    if name.rsplit(".", 1)[-1] == "weight" and p.ndim >= 2]
        return _tensors(target)

    def __call__(self, target):
        changed = []
        for tensor in self._targets(target):
            data = tensor._array
            moved = np.moveaxis(data, self.dim, 0)
            norms = np.sqrt((moved.reshape(moved.shape[0], -1).astype(np.float64) ** 2).sum(axis=1))
            over = norms > self.max_value
            if over.any():
                scale = np.where(over, self.max_value / (norms + 1e-7), 1.0).astype(data.dtype)
                moved *= scale.reshape((-1,) + (1,) * (moved.ndim - 1))
                changed.append(tensor)
        if changed:
            mark_dirty(*changed)
        return target

    def __repr__(self):
        return f"MaxNorm(max_value={self.max_value}, dim={self.dim})"

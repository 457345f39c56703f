"""Composites of the layer kernels: dropout, linear, bilinear and embedding, in primitive ops.

- Dropout: y = x·m with the mask m the recorded forward drew (a constant), so the
  composite is the same function as that call.
- Linear: z = x·Wᵀ + b (matmul and add).
- Bilinear: zₖ = x₁ᵀ Aₖ x₂ + bₖ as an einsum.
- Embedding: y = W[index]. Its backward is not the adjoint of the lookup: rows at
  ``padding_idx`` get no gradient and ``scale_grad_by_freq`` divides a row's gradient by
  how often it was looked up, so no composite has it as derivative. It gets a ``formula``
  instead: the kernel's backward recorded as a node whose own backward is PyTorch's
  embedding double backward, u ↦ u[index] (0 at padding), which makes the second
  derivatives PyTorch's (the exact derivatives of the first derivatives computed).
"""

from typing import Any

import numpy as np

from soma.autograd.function import Function
from soma.nn.functional import affine as _linear
from soma.nn.functional import dropouts as _dropout
from soma.nn.functional.decomp.activation import constant
from soma.ops.arithmetic import where
from soma.ops.contraction import einsum
from soma.tensor import Tensor


def _dropout_composite(ctx, x, mask):
    return x * constant(mask)


def _linear_composite(ctx, x, weight, bias=None):
    out = x @ weight.mT
    return out if bias is None else out + bias


def _bilinear(ctx, x1, x2, weight, bias=None):
    out = einsum("ni,kij,nj->nk", x1, weight, x2)
    return out if bias is None else out + bias


class EmbeddingGrad(Function):
    """∂L/∂W from ∂L/∂y as the Embedding kernel's backward computes it; differentiated as PyTorch's.

    Shape:
        grad: index.shape + (embedding_dim,); output: the table's shape (num_embeddings, embedding_dim).
    """

    @staticmethod
    def forward(ctx, grad, node):
        ctx.save_for_backward(*node.saved_tensors)  # the indices
        ctx.padding_idx = node.padding_idx
        return type(node).backward(node, grad)[0]

    @staticmethod
    def backward(ctx, u):
        return _lookup(ctx, u), None

    @staticmethod
    def formula(ctx, u):
        return _lookup(ctx, u), None


def _lookup(node, u):
    """u[index] with 0 at the padding positions (an array, or a recorded Tensor for a Tensor u); ``node`` is the
    Embedding kernel's or an EmbeddingGrad's (both hold the indices and ``padding_idx``)."""
    (index,) = node.saved_tensors
    padding_idx = node.padding_idx
    rows = u[index]
    if padding_idx is None:
        return rows
    padding = (index == padding_idx)[..., None]
    return where(padding, 0, rows) if isinstance(u, Tensor) else np.where(padding, 0, rows)


def _embedding_formula(ctx, grad):
    return EmbeddingGrad.apply(grad, ctx), None, None, None


_COMPOSITES: dict[Any, Any] = {  # node class -> its composite (the values differ in signature)
    _dropout.Dropout: _dropout_composite, _linear.Linear: _linear_composite, _linear.Bilinear: _bilinear,
}
for _kernel, _composite in _COMPOSITES.items():
    _kernel.composite = staticmethod(_composite)
_linear.Embedding.formula = staticmethod(_embedding_formula)

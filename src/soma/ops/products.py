"""Products and distances built from matmul/einsum: tensordot, kron, inner, vdot, mv, addr, addcmul, addcdiv,
dist, cdist, cartesian_prod, combinations, block_diag. Each is a composition of differentiable ops, so its gradient
(and its higher-order gradients) come from theirs.

    tensordot(a, b, dims): Σ over the paired dims of a ⊗ b        kron(A, B)[i·p + k, j·q + l] = Aᵢⱼ Bₖₗ
    addr(M, u, v) = β M + α u vᵀ       addcmul(x, a, b) = x + v · a ∘ b       addcdiv(x, a, b) = x + v · a / b
    dist(x, y, p) = ‖x - y‖ₚ           cdist(X, Y)ᵢⱼ = ‖Xᵢ - Yⱼ‖ₚ
"""

import string

from soma.ops._common import as_tensor_arg, broadcast_shape
from soma.ops.contraction import einsum

__all__ = ["tensordot", "kron", "inner", "vdot", "mv", "addr", "addcmul", "addcdiv", "dist", "cdist",
           "cartesian_prod", "combinations", "block_diag"]


def tensordot(a, b, dims=2, out=None):
    """Contract the last ``dims`` dims of a with the first of b, or the listed pairs ``dims=([..], [..])``."""
    a, b = as_tensor_arg(a, "tensordot", "a"), as_tensor_arg(b, "tensordot", "b")
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    left, right = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(left) != len(right):
        raise RuntimeError(f"both dimension lists should have same length, got {left} and {right}")
    letters = iter(string.ascii_letters)
    a_sub = [next(letters) for _ in range(a.ndim)]
    b_sub = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(left, right):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                               f"and second has size {b.shape[j]} in dim {j}")
        b_sub[j] = a_sub[i]
    kept = [c for k, c in enumerate(a_sub) if k not in [d % a.ndim for d in left]]
    kept += [c for k, c in enumerate(b_sub) if k not in [d % b.ndim for d in right]]
    return einsum(f"{''.join(a_sub)},{''.join(b_sub)}->{''.join(kept)}", a, b)


def kron(input, other):
    """The Kronecker product: every element of input times the whole of other, blocks laid out as input."""
    a, b = as_tensor_arg(input, "kron"), as_tensor_arg(other, "kron", "other")
    n = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (n - a.ndim) + tuple(a.shape))
    b = b.reshape((1,) * (n - b.ndim) + tuple(b.shape))
    outer = a.reshape(sum(((s, 1) for s in a.shape), ())) * b.reshape(sum(((1, s) for s in b.shape), ()))
    return outer.reshape(tuple(p * q for p, q in zip(a.shape, b.shape)))


def inner(input, other):
    """Σ over the last dims of input and other (a product of a number and a tensor when one is 0-d)."""
    a, b = as_tensor_arg(input, "inner"), as_tensor_arg(other, "inner", "other")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def vdot(input, other):
    """Σᵢ xᵢyᵢ of two 1-D tensors (real: the dot product)."""
    from soma.ops import dot

    return dot(input, other)


def mv(input, vec):
    """The matrix-vector product A·v."""
    a, v = as_tensor_arg(input, "mv"), as_tensor_arg(vec, "mv", "vec")
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a.ndim}, {v.ndim}")
    return a @ v


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """β·input + α·(vec1 ⊗ vec2)."""
    from soma.ops import outer

    product = outer(vec1, vec2)
    return (input * beta if beta != 1 else input) + (product * alpha if alpha != 1 else product)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value · tensor1 ∘ tensor2 (broadcast)."""
    product = tensor1 * tensor2
    return input + (product * value if value != 1 else product)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value · tensor1 / tensor2 (broadcast)."""
    quotient = tensor1 / tensor2
    return input + (quotient * value if value != 1 else quotient)


def dist(input, other, p=2):
    """‖input - other‖ₚ over all elements (broadcast)."""
    from soma.ops import norm

    return norm(input - other, p)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance of every row of x1 to every row of x2: (…, P, M) and (…, R, M) give (…, P, R)."""
    from soma.ops import norm

    x1, x2 = as_tensor_arg(x1, "cdist", "x1"), as_tensor_arg(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    broadcast_shape("cdist", x1.shape[:-2], x2.shape[:-2])
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (a 1-D tensor for one input)."""
    from soma.ops import meshgrid, stack

    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """Every r-element combination of the 1-D ``input``'s elements, in order, as the rows of an (m, r) tensor
    (itertools.combinations, or combinations_with_replacement); r = 0 gives an empty 1-D tensor."""
    import itertools

    import numpy as np

    from soma.tensor import Tensor

    input = as_tensor_arg(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.narrow(0, 0, 0)
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(choose(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    picked = input.index_select(0, Tensor._make(np.asarray(rows.reshape(-1), like=input._array), False))
    return picked.reshape(-1, r)


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D) as the diagonal blocks of one matrix, zeros elsewhere."""
    import soma
    from soma.ops import cat
    from soma.ops.scattering import index_copy

    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in (as_tensor_arg(t, "block_diag") for t in tensors)]
    rows = [b.shape[0] for b in blocks]
    total = sum(b.shape[1] for b in blocks)
    dtype = soma.result_type(*blocks) if len(blocks) > 1 else blocks[0].dtype
    pieces, offset = [], 0
    for block, height in zip(blocks, rows):
        strip = soma.zeros(height, total, dtype=dtype)
        width = block.shape[1]
        columns = soma.arange(offset, offset + width)
        pieces.append(index_copy(strip, 1, columns, block.to(dtype)))
        offset += width
    return cat(pieces, 0) if pieces else soma.zeros(0, 0)

"""Scatter: the writes that gather and index_select read, with their gradients.

``out = input.scatter(dim, index, src)`` writes, in 2-D for dim = 1, out[i][index[i][j]] = src[i][j]
(any other dim likewise); ``scatter_add`` adds instead of writing, ``scatter_reduce`` reduces
(sum, prod, mean, amax, amin) the values landing on one place, with or without the value
already there (``include_self``). ``index_add``/``index_copy``/``index_fill`` do the same with
whole slices along ``dim`` picked by a 1-D index, and ``masked_scatter`` fills the places of a
mask with the next values of ``source``.

Gradients (PyTorch's): a written place no longer depends on ``input``, so ∂L/∂input is the
incoming gradient with the written places zeroed, and ∂L/∂src = gather(∂L/∂out) — the read
is the adjoint of the write. An added place depends on both: ∂L/∂input = ∂L/∂out.
For amax/amin the gradient goes in equal shares to the values tied with the result; for
prod, ∂(∏ₖ xₖ)/∂xⱼ = ∏ₖ≠ⱼ xₖ, computed without dividing so zeros are handled exactly.
"""

import math

import numpy as np

from soma.autograd.function import Function
from soma.backend import contiguous
from soma.ops._common import as_tensor_arg, to_dtype
from soma.ops.indexing import _check_bounds, _open_grid
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = [
    "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "masked_scatter",
    "take_along_dim",
]


def _places(index, dim):
    """The full index tuple of the places ``index`` names along ``dim`` (the others by position)."""
    where = _open_grid(index.shape, index)  # beside the index: a device array is indexed by device arrays
    where[dim] = index
    return tuple(where)


def _region(index):
    """The leading block of ``src`` that pairs with ``index`` (src may be larger in every dim)."""
    return tuple(slice(0, n) for n in index.shape)


def _zero_places(grad, places):
    out = grad.copy()
    out[places] = 0
    return out


def _src_grad(grad, places, index, src_shape):
    """∂L/∂src: the gradient read back at the written places, zero outside the index's block."""
    picked = grad[places]
    if picked.shape == tuple(src_shape):
        return picked
    out = np.zeros_like(grad, shape=src_shape)
    out[_region(index)] = picked
    return out


class ScatterSrc(Function):
    """out = input, then out[index places] = src (the last write wins where an index repeats)"""

    linear = True  # linear in (input, src) jointly

    @staticmethod
    def forward(ctx, x, dim, index, src):
        _remember(ctx, dim, index, src)
        out = x.copy()
        out[_places(index, dim)] = src[_region(index)]
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        places = _places(index, ctx.dim)
        need_x, _, _, need_src = ctx.needs_input_grad
        return (_zero_places(grad, places) if need_x else None, None, None,
                _src_grad(grad, places, index, ctx.src_shape) if need_src else None)


def _remember(ctx, dim, index, src):
    """What a scatter's backward reads: the index (saved, so an in-place change of it is caught), dim, src's shape."""
    ctx.save_for_backward(index)
    ctx.dim, ctx.src_shape = dim, src.shape


class ScatterValue(Function):
    """out = input, then out[index places] = value (a number): ∂out/∂input is 0 at those places, 1 elsewhere"""

    @staticmethod
    def forward(ctx, x, dim, index, value):
        ctx.save_for_backward(index)
        ctx.dim = dim
        out = x.copy()
        out[_places(index, dim)] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return _zero_places(grad, _places(index, ctx.dim)), None, None, None

    @staticmethod
    def formula(ctx, grad):
        _, dim, index, _ = ctx.inputs
        return ScatterValue.apply(grad, dim, index, 0), None, None, None


class ScatterAdd(Function):
    """out = input, then out[index places] += src (repeated places add up)"""

    linear = True

    @staticmethod
    def forward(ctx, x, dim, index, src):
        _remember(ctx, dim, index, src)
        out = x.copy()
        np.add.at(out, _places(index, dim), src[_region(index)])
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need_src = ctx.needs_input_grad[3]
        return grad, None, None, _src_grad(grad, _places(index, ctx.dim), index, ctx.src_shape) if need_src else None


class ScatterExtreme(Function):
    """out = input (or nothing, include_self=False) reduced with src at each place by max or min.

    ∂out/∂xⱼ = 1/t for each of the t values tied with the result at that place, 0 for the others.
    With include_self=False an input value equal to the result still counts in t (its own share is 0):
    PyTorch's rule, kept for its numbers.
    """

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        places = _places(index, dim)
        values = src[_region(index)]
        out = x.copy()
        if not include_self:
            out[places] = _identity(reduce, x.dtype)
        with np.errstate(invalid="ignore"):  # NaN wins, as in PyTorch
            (np.maximum if reduce == "amax" else np.minimum).at(out, places, values)
        tied = out == x  # counted among the ties even when excluded, as PyTorch counts them
        hit = values == out[places]
        count = tied.astype(x.dtype)
        np.add.at(count, places, hit.astype(x.dtype))
        count[count == 0] = 1
        if not include_self:
            tied[places] = False
        weight_x = tied / count
        weight_src = np.zeros_like(x, shape=src.shape)
        weight_src[_region(index)] = hit / count[places]
        ctx.save_for_backward(index, weight_x, weight_src)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        index, weight_x, weight_src = ctx.saved_tensors
        grad_src = _src_grad(grad, _places(index, ctx.dim), index, weight_src.shape) * weight_src
        return grad * weight_x, None, None, grad_src, None, None

    @staticmethod
    def formula(ctx, grad):
        _, dim, index, src = ctx.inputs[:4]
        _, weight_x, weight_src = ctx.saved_tensors
        return grad * weight_x, None, None, _read_back(grad, dim, index, src.shape) * weight_src, None, None


def _read_back(grad, dim, index, src_shape):
    """gather(grad, dim, index) as a differentiable op, zero-padded to ``src_shape``."""
    from soma.ops.indexing import Gather, IndexPut

    picked = Gather.apply(grad, dim, index)
    if tuple(picked.shape) == tuple(src_shape):
        return picked
    return IndexPut.apply(Tensor._make(np.zeros_like(grad._array, shape=src_shape), False), _region(index), picked)


class ScatterProd(Function):
    """out = input (or 1, include_self=False) times the src values at each place.

    ∂out/∂xⱼ = ∏ₖ≠ⱼ xₖ over the factors of that place: the product of the non-zero factors when
    xⱼ is the only zero, 0 when another factor is zero, out/xⱼ otherwise.
    """

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        places = _places(index, dim)
        values = src[_region(index)]
        out = x.copy()
        if not include_self:
            out[places] = 1
        np.multiply.at(out, places, values)
        ctx.save_for_backward(x, index, values)
        ctx.dim, ctx.include_self = dim, include_self
        return out

    @staticmethod
    def backward(ctx, grad):
        x, index, values = ctx.saved_tensors
        places = _places(index, ctx.dim)
        own = np.ones_like(x, dtype=bool)
        if not ctx.include_self:
            own[places] = False
        zeros = np.where(own & (x == 0), 1, 0)  # zero factors per place
        np.add.at(zeros, places, (values == 0).astype(zeros.dtype))
        nonzero = np.where(own & (x != 0), x, 1)  # product of the non-zero factors per place
        np.multiply.at(nonzero, places, np.where(values == 0, 1, values))
        grad_x = np.where(own, grad * _others(x, zeros, nonzero), 0).astype(grad.dtype)
        grad_src = np.zeros_like(grad, shape=ctx.inputs[3].shape)
        grad_src[_region(values)] = grad[places] * _others(values, zeros[places], nonzero[places])
        return grad_x, None, None, grad_src, None, None


    @staticmethod
    def composite(ctx, x, dim, index, src, reduce, include_self):
        # the forward in differentiable ops: the src values of each place, layer by layer (the k-th value
        # landing on a place goes in layer k, where places are unique), multiplied in as written-in factors
        from soma.ops.indexing import IndexPut

        places = np.ravel_multi_index(np.broadcast_arrays(*_places(index, dim)), x.shape).reshape(-1)
        values = src[_region(index)].reshape(-1)
        order = np.argsort(places, kind="stable")
        ranked = places[order]
        rank = np.empty_like(order)  # the k of each value: its position among the values of its place
        rank[order] = np.arange(ranked.size, like=ranked) - np.searchsorted(ranked, ranked)
        out = x if include_self else ScatterValue.apply(x, dim, index, x._array.dtype.type(1))
        out = out.reshape(-1)
        ones = Tensor._make(np.ones_like(x._array, shape=out.shape), False)
        for k in range(int(rank.max()) + 1 if rank.size else 0):
            layer = np.flatnonzero(rank == k)
            out = out * IndexPut.apply(ones, (places[layer],), values[Tensor._make(layer, False)])
        return out.reshape(x.shape)


def _others(factor, zeros, nonzero):
    """∏ₖ≠ⱼ xₖ for the factor xⱼ of a place with ``zeros`` zero factors and non-zero product ``nonzero``."""
    if_zero = np.where(zeros == 1, nonzero, 0)
    if_not = np.where(zeros == 0, nonzero / np.where(factor == 0, 1, factor), 0)
    return np.where(factor == 0, if_zero, if_not)


def _identity(reduce, dtype):
    """The value a place starts from when include_self=False: the identity of the reduction."""
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:  # bool
        return reduce != "amax"
    return info.min if reduce == "amax" else info.max


def _check_scatter(name, input, dim, index, src):
    """PyTorch's checks of (input, dim, index, src); returns (dim, index array)."""
    input = as_tensor_arg(input, name)
    index_array = _index_of(index, name, "iu")
    (dim,) = normalize_dims(dim, input.ndim, name)
    if index_array.ndim != input.ndim and not (input.ndim <= 1 and index_array.ndim <= 1):
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as self tensor "
                           f"(self {tuple(input.shape)}, index {tuple(index_array.shape)})")
    if isinstance(src, Tensor):
        if src._array.dtype != input._array.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype "
                               f"(got {input._array.dtype} and {src._array.dtype})")
        if src.ndim != index_array.ndim and not (src.ndim <= 1 and index_array.ndim <= 1):
            raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as src tensor "
                               f"(src {tuple(src.shape)}, index {tuple(index_array.shape)})")
    shape = input.shape if input.ndim else (1,)
    too_big = any(n > shape[d] for d, n in enumerate(index_array.shape) if d != dim)
    if isinstance(src, Tensor):
        src_shape = src.shape if src.ndim else (1,)
        too_big = too_big or any(n > src_shape[d] for d, n in enumerate(index_array.shape))
    if too_big:
        raise RuntimeError(
            f"{name}(): Expected index {list(index_array.shape)} to be no larger than self {list(input.shape)} "
            f"apart from dimension {dim}" + (f" and to be no larger size than src {list(src.shape)}"
                                             if isinstance(src, Tensor) else "")
        )
    _check_bounds(index_array, shape[dim], dim, name)
    return input, dim, index_array


def _index_of(index, name, kinds="i"):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    array = index._array
    if array.dtype.kind not in kinds:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, got {array.dtype}")
    return array


def _scalar_case(input, index, src):
    """0-d operands scatter as 1-element vectors: (input, index, src, undo)."""
    if input.ndim and index.ndim:
        return input, index, src, lambda out: out
    shape = input.shape
    src = src.reshape(-1) if isinstance(src, Tensor) else src
    return input.reshape(-1), index.reshape(-1), src, lambda out: out.reshape(shape)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with out[...][index[i][j]][...] = src[i][j] along ``dim`` (src a tensor or a number).

    ``reduce='add'`` or ``'multiply'`` (PyTorch's legacy argument) combines with the value there
    instead of writing; prefer :func:`scatter_reduce`.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    input, dim, index = _check_scatter("scatter", input, dim, index, src)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if not isinstance(src, Tensor):
            src = Tensor._make(np.full_like(index, src, dtype=input._array.dtype), False)
        return scatter_reduce(input, dim, Tensor._make(index, False), src, "sum" if reduce == "add" else "prod")
    input, index, src, undo = _scalar_case(input, index, src)
    if isinstance(src, Tensor):
        return undo(ScatterSrc.apply(input, dim, index, src))
    if isinstance(src, (bool, int, float, np.generic)) or np.ndim(src) == 0:
        return undo(ScatterValue.apply(input, dim, index, to_dtype(src, input._array.dtype)))
    raise TypeError(f"scatter(): argument 'src' must be Tensor or a number, not {type(src).__name__}")


def scatter_add(input, dim, index, src):
    """``input`` with out[...][index[i][j]][...] += src[i][j] along ``dim`` (repeats add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    input, dim, index = _check_scatter("scatter_add", input, dim, index, src)
    input, index, src, undo = _scalar_case(input, index, src)
    return undo(ScatterAdd.apply(input, dim, index, src))


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce the src values landing on each place (and the value there, include_self) with
    ``reduce`` in sum, prod, mean, amax, amin; places no index names keep input's value."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch takes the old names too
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not {type(src).__name__}")
    input, dim, index = _check_scatter("scatter_reduce", input, dim, index, src)
    input, index, src, undo = _scalar_case(input, index, src)
    if reduce in ("sum", "mean"):
        base = input if include_self else ScatterValue.apply(input, dim, index, input._array.dtype.type(0))
        total = ScatterAdd.apply(base, dim, index, src)
        if reduce == "sum":
            return undo(total)
        count = np.full_like(input._array, 1 if include_self else 0, dtype=np.int64)
        np.add.at(count, _places(index, dim), 1)
        count = Tensor._make(np.maximum(count, 1).astype(input._array.dtype), False)
        if input._array.dtype.kind in "fc":
            return undo(total / count)
        return undo(total.div(count, rounding_mode="floor"))
    kernel = ScatterProd if reduce == "prod" else ScatterExtreme
    return undo(kernel.apply(input, dim, index, src, reduce, bool(include_self)))


def _slices(dim, index):
    """The index tuple of the slices ``index`` names along ``dim``."""
    return (slice(None),) * dim + (index,)


class IndexAdd(Function):
    """out = input; out[..., index[k], ...] += alpha · source[..., k, ...] along ``dim``"""

    linear = True

    @staticmethod
    def forward(ctx, x, dim, index, source, alpha):
        ctx.save_for_backward(index)
        ctx.dim, ctx.alpha = dim, alpha
        out = x.copy()
        np.add.at(out, _slices(dim, index), source * alpha if alpha != 1 else source)
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        grad_source = None
        if ctx.needs_input_grad[3]:
            grad_source = np.take(grad, index, axis=ctx.dim)
            grad_source = grad_source * ctx.alpha if ctx.alpha != 1 else grad_source
        return grad, None, None, grad_source, None


def _write_slices(ctx, x, dim, index, values):
    ctx.save_for_backward(index)
    ctx.dim = dim
    out = x.copy()
    out[_slices(dim, index)] = values
    return out


class IndexCopy(Function):
    """out = input; out[..., index[k], ...] = source[..., k, ...] along ``dim``"""

    linear = True

    @staticmethod
    def forward(ctx, x, dim, index, source):
        return _write_slices(ctx, x, dim, index, source)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need_x, _, _, need_source = ctx.needs_input_grad
        return (_zero_places(grad, _slices(ctx.dim, index)) if need_x else None, None, None,
                np.take(grad, index, axis=ctx.dim) if need_source else None)


class IndexFill(Function):
    """out = input; out[..., index[k], ...] = value (a number, or a 0-d tensor that gets the summed gradient)"""

    @staticmethod
    def forward(ctx, x, dim, index, value):
        return _write_slices(ctx, x, dim, index, value)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        places = _slices(ctx.dim, np.unique(index))
        grad_value = grad[places].sum() if ctx.needs_input_grad[3] else None
        return _zero_places(grad, places) if ctx.needs_input_grad[0] else None, None, None, grad_value

    @staticmethod
    def formula(ctx, grad):
        (index,) = ctx.saved_tensors
        kept = IndexFill.apply(grad, ctx.dim, index, grad.dtype.type(0))
        grad_value = (grad - kept).sum() if ctx.needs_input_grad[3] else None
        return kept if ctx.needs_input_grad[0] else None, None, None, grad_value


# per op: (index dtypes accepted, error type for a bad dtype, error type for a 2-D index, negatives allowed)
_INDEX_RULES = {
    "index_add": ("iu", RuntimeError, IndexError, False),
    "index_copy": ("l", RuntimeError, IndexError, False),
    "index_fill": ("l", IndexError, RuntimeError, True),
}


def _check_index_op(name, input, dim, index, source=None):
    """PyTorch's checks of (input, dim, 1-D index, source); returns (input, dim, index with negatives wrapped)."""
    kinds, dtype_error, shape_error, negatives = _INDEX_RULES[name]
    input = as_tensor_arg(input, name)
    index_array = _index_of(index, name, "iu")
    if (kinds == "l" and index_array.dtype != np.int64) or index_array.dtype.kind not in "iu":
        raise dtype_error(f"{name}_(): Expected dtype int64 for index, got {index_array.dtype}")
    if index_array.ndim > 1:
        raise shape_error(f"{name}_(): Index is supposed to be a vector, got shape {tuple(index_array.shape)}")
    index_array = index_array.reshape(-1)
    (dim,) = normalize_dims(dim, input.ndim, name)
    size = input.shape[dim] if input.ndim else 1
    if source is not None:
        source = as_tensor_arg(source, name, "source")
        if source._array.dtype != input._array.dtype:
            raise RuntimeError(f"{name}_(): self ({input._array.dtype}) and source ({source._array.dtype}) "
                               "must have the same scalar type")
        expected = list(input.shape)
        if expected:
            expected[dim] = index_array.size
        if list(source.shape) != expected and not (source.ndim == 0 and index_array.size == 1):
            raise RuntimeError(
                f"{name}_(): Number of indices ({index_array.size}) should be equal to source.size(dim) and "
                f"source {list(source.shape)} should have self's shape {list(input.shape)} elsewhere, for dim: {dim}"
            )
    low = -size if negatives else 0
    if index_array.size and (index_array.min() < low or index_array.max() >= size):
        bad = index_array.max() if index_array.max() >= size else index_array.min()
        error = RuntimeError if name == "index_add" else IndexError
        raise error(f"{name}_(): index {bad} is out of bounds for dimension {dim} with size {size}")
    return input, dim, np.where(index_array < 0, index_array + size, index_array)


def _as_vector(input, source=None):
    """0-d operands as 1-element vectors: (input, source, undo)."""
    if input.ndim:
        return input, source, lambda out: out
    return (input.reshape(1), None if source is None else source.reshape(1),
            lambda out: out.reshape(()))


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with alpha · source's slices added at the slices ``index`` names along ``dim``."""
    return _index_write("index_add", IndexAdd, input, dim, index, source, alpha)


def index_copy(input, dim, index, source):
    """``input`` with source's slices written at the slices ``index`` names along ``dim``."""
    return _index_write("index_copy", IndexCopy, input, dim, index, source)


def _index_write(name, kernel, input, dim, index, source, *settings):
    input, dim, index = _check_index_op(name, input, dim, index, source)
    input, source, undo = _as_vector(input, source)
    return undo(kernel.apply(input, dim, index, source, *settings))


def index_fill(input, dim, index, value):
    """``input`` with the slices ``index`` names along ``dim`` set to ``value`` (a number or a 0-d tensor)."""
    input, dim, index = _check_index_op("index_fill", input, dim, index)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    input, _, undo = _as_vector(input)
    return undo(IndexFill.apply(input, dim, index, to_dtype(value, input._array.dtype)))


class MaskedScatter(Function):
    """out = input; out[mask] = source.flatten()[:mask.sum()] (the mask's places in row-major order)"""

    linear = True

    @staticmethod
    def forward(ctx, x, mask, source):
        ctx.save_for_backward(mask)
        ctx.source_shape = source.shape
        out = x.copy()
        out[mask] = source.reshape(-1)[: int(mask.sum())]
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        grad_source = None
        if ctx.needs_input_grad[2]:
            flat = np.zeros_like(grad, shape=(math.prod(ctx.source_shape),))
            picked = grad[mask]
            flat[: picked.size] = picked
            grad_source = flat.reshape(ctx.source_shape)
        return _zero_places(grad, mask) if ctx.needs_input_grad[0] else None, None, grad_source


def masked_scatter(input, mask, source):
    """``input`` with the places where ``mask`` (bool, broadcast to input) holds filled by source in order."""
    input = as_tensor_arg(input, "masked_scatter")
    source = as_tensor_arg(source, "masked_scatter", "source")
    mask_array = as_tensor_arg(mask, "masked_scatter", "mask")._array
    if mask_array.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {mask_array.dtype}")
    if source._array.dtype != input._array.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got "
                           f"{input._array.dtype} and {source._array.dtype}")
    from soma.ops._common import broadcast_shape

    shape = broadcast_shape("masked_scatter", input.shape, mask_array.shape)
    if shape != tuple(input.shape):
        from soma.ops.shape import expand

        input = expand(input, shape)
    mask_array = np.broadcast_to(mask_array, shape)
    if int(mask_array.sum()) > source._array.size:
        raise RuntimeError(f"masked_scatter: Number of elements of source ({source._array.size}) < number of ones "
                           f"in mask ({int(mask_array.sum())})")
    return MaskedScatter.apply(input, mask_array, source)


def take_along_dim(input, indices, dim=None):
    """The values of ``input`` at ``indices`` along ``dim`` (broadcast against each other elsewhere);
    ``dim=None`` indexes the flattened input with the flattened indices."""
    from soma.ops.indexing import gather
    from soma.ops.shape import expand

    input = as_tensor_arg(input, "take_along_dim")
    array = _index_of(indices, "take_along_dim", "iu")
    if array.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {array.dtype}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.ndim != array.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.ndim} dimensions for input, and {array.ndim} dimensions for indices")
    (dim,) = normalize_dims(dim, input.ndim, "take_along_dim")
    from soma.ops._common import broadcast_shape

    shape_in, shape_index = list(input.shape), list(array.shape)
    shape_in[dim] = shape_index[dim] = 1
    common = list(broadcast_shape("take_along_dim", shape_in, shape_index))
    target_in, target_index = list(common), list(common)
    target_in[dim], target_index[dim] = input.shape[dim], array.shape[dim]
    if list(input.shape) != target_in:
        input = expand(input, target_in)
    if list(array.shape) != target_index:
        indices = Tensor._make(contiguous(np.broadcast_to(array, target_index)), False)
    return gather(input, dim, indices)


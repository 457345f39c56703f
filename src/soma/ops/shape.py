"""Shape ops: reshape, permute, expand, cat, stack, pad, flip, repeat, and dtype casts.

They move numbers without changing them, so each backward moves the gradient back:
reshape's backward reshapes, permute's applies the inverse permutation, expand's
sums over the broadcast dimensions, cat's splits, pad's crops (folding reflected or
replicated border values back onto the elements they were copied from).
"""

import math

import numpy as np

from soma._errors import ShapeError
from soma.autograd.function import Function
from soma.ops.arithmetic import unbroadcast
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = [
    "Reshape", "Permute", "Expand", "Cat", "Stack", "Pad", "Flip", "Repeat", "Cast", "ToDevice", "Clone",
    "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "permute", "expand",
    "repeat", "flip", "cat", "concat", "stack", "pad", "cast", "clone", "sizes_argument", "t", "view",
    "view_dtype",
]


def sizes_argument(sizes):
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(int(s) for s in sizes)


class Reshape(Function):
    linear = True
    is_view = True  # when NumPy could reshape without copying

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Permute(Function):
    linear = True
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(tuple(int(i) for i in np.argsort(ctx.dims))), None


class Expand(Function):
    linear = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape), None


class Cat(Function):
    linear = True

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.bounds = [int(b) for b in np.cumsum([a.shape[dim] for a in arrays])[:-1]]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.bounds, axis=ctx.dim))


class Stack(Function):
    linear = True

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.count = len(arrays)
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.take(grad, i, axis=ctx.dim) for i in range(ctx.count))


class Cast(Function):
    linear = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype), None


class ToDevice(Function):
    """y = x on another device (``Tensor.to(device)``); the gradient goes back to x's device."""

    linear = True

    @staticmethod
    def forward(ctx, x, target):
        from soma import backend

        ctx.source = backend.of(x)
        return target.transfer(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.source.transfer(grad), None


class Clone(Function):
    linear = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Flip(Function):
    linear = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.dims), None


class Repeat(Function):
    """Tile x: output dim i holds repeats[i] copies of input dim i (numpy.tile)."""

    linear = True


    @staticmethod
    def forward(ctx, x, repeats):
        ctx.shape = (1,) * (len(repeats) - x.ndim) + x.shape
        ctx.original = x.shape
        return np.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        # each input element appears once in every tile: sum the tiles
        interleaved = []
        for repeat, size in zip(grad.shape, ctx.shape):
            interleaved += [repeat // size, size]
        summed = grad.reshape(interleaved).sum(axis=tuple(range(0, len(interleaved), 2)))
        return summed.reshape(ctx.original), None


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class Pad(Function):
    """Pad with a constant, or with reflected / replicated / circular copies of the border."""

    linear = (0, 3)  # affine in x: the fill value is a constant offset


    @staticmethod
    def forward(ctx, x, widths, mode, value):
        ctx.shape, ctx.widths, ctx.mode = x.shape, widths, mode
        ctx.connected = mode in ("reflect", "replicate")  # PyTorch's backward of these takes x
        if mode == "constant":
            return np.pad(x, widths, constant_values=value)
        ctx.sources = [
            None if before == after == 0 else np.pad(np.arange(size, like=x), (before, after), _PAD_MODES[mode])
            for size, (before, after) in zip(x.shape, widths)
        ]
        out = x
        for axis, source in enumerate(ctx.sources):
            if source is not None:
                out = out.take(source, axis=axis)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, widths, mode = ctx.shape, ctx.widths, ctx.mode
        if mode == "constant":
            return grad[tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))], None, None, None
        for axis in reversed(range(len(shape))):
            source = ctx.sources[axis]
            if source is None:
                continue
            moved = np.moveaxis(grad, axis, 0)
            before, _ = widths[axis]
            folded = moved[before : before + shape[axis]].copy()
            for position in [*range(before), *range(before + shape[axis], len(source))]:
                folded[source[position]] += moved[position]  # a loop over border positions only
            grad = np.moveaxis(folded, 0, axis)
        return grad, None, None, None


def reshape(input, *shape):
    shape = sizes_argument(shape)
    try:
        return Reshape.apply(input, shape)
    except ValueError:
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of size {input._array.size} "
            f"(shape {tuple(input.shape)})"
        ) from None


def view(input, *shape):
    """``reshape`` that never copies: PyTorch's RuntimeError where the strides do not allow the new shape."""
    target = sizes_argument(shape)
    try:
        np.reshape(input._array, target, copy=False)
    except ValueError as error:
        if "copy" not in str(error) and "cannot reshape" in str(error):
            return reshape(input, *shape)  # the size mismatch gets reshape's message
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            f"two contiguous subspaces). Use .reshape(...) instead. (shape {tuple(input.shape)} -> {list(target)})"
        ) from None
    return reshape(input, *shape)


def view_dtype(input, dtype):
    """The same bytes read as ``dtype`` (PyTorch's ``view(dtype)``; outside the graph)."""
    dtype = np.dtype(dtype)
    if input.requires_grad:
        raise RuntimeError("view(dtype): a tensor that requires grad cannot be reinterpreted as another dtype")
    try:
        return Tensor._make(input._array.view(dtype), False)
    except ValueError as error:
        raise RuntimeError(f"view(dtype): {error}") from None


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        normalize_dims(start_dim, 0, "flatten")
        normalize_dims(end_dim, 0, "flatten")
        return reshape(input, 1)
    (start,), (end,) = normalize_dims(start_dim, input.ndim, "flatten"), normalize_dims(end_dim, input.ndim, "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape[:start] + (-1,) + input.shape[end + 1 :]
    if 0 in input.shape:
        shape = input.shape[:start] + (math.prod(input.shape[start : end + 1]),) + input.shape[end + 1 :]
    return Reshape.apply(input, shape)


def unflatten(input, dim, sizes):
    (dim,) = normalize_dims(dim, input.ndim, "unflatten")
    return reshape(input, input.shape[:dim] + tuple(sizes) + input.shape[dim + 1 :])


def squeeze(input, dim=None):
    if dim is None:
        shape = tuple(s for s in input.shape if s != 1)
    else:
        dims = normalize_dims(dim, input.ndim, "squeeze", empty_means_all=False)
        shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    return input if shape == input.shape else Reshape.apply(input, shape)


def unsqueeze(input, dim):
    if not -input.ndim - 1 <= dim <= input.ndim:
        raise IndexError(
            f"unsqueeze: dimension {dim} is out of range for a tensor with {input.ndim} dimensions"
        )
    dim = dim % (input.ndim + 1)
    return Reshape.apply(input, input.shape[:dim] + (1,) + input.shape[dim:])


def permute(input, *dims):
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = normalize_dims(sizes_argument(dims), input.ndim, "permute", empty_means_all=False)
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError(
            f"permute: dims {list(dims)} are not a permutation of the {input.ndim} dimensions"
        )
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    dim0, dim1 = normalize_dims((dim0, dim1), input.ndim, "transpose")
    dims = list(range(input.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(input, tuple(dims))


def t(input):
    """The transpose of a tensor of at most 2 dimensions (0-d and 1-d come back as they are)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def expand(input, *sizes):
    sizes = sizes_argument(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the number of "
            f"dimensions ({input.ndim})"
        )
    lead = len(sizes) - input.ndim
    shape = tuple(
        input.shape[i - lead] if size == -1 and i >= lead else size for i, size in enumerate(sizes)
    )
    try:
        return Expand.apply(input, shape)
    except ValueError:
        raise RuntimeError(
            f"expand: a tensor of shape {tuple(input.shape)} cannot be expanded to {list(sizes)}"
        ) from None


def repeat(input, *sizes):
    sizes = sizes_argument(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "repeat: the number of repeats cannot be smaller than the number of dimensions"
        )
    return Repeat.apply(input, sizes)


def flip(input, dims):
    dims = normalize_dims(dims, input.ndim, "flip", empty_means_all=False)
    return Flip.apply(input, dims) if dims and input.ndim else clone(input)


def _check_same(name, tensors, dim):
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    first = tensors[0]
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != dim
        ):
            raise RuntimeError(
                f"{name}: sizes of tensors must match except in dimension {dim}; got "
                f"{tuple(first.shape)} and {tuple(t.shape)}"
            )


def _as_tensors(tensors):
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def cat(tensors, dim=0):
    tensors = _as_tensors(tensors)
    for position, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {position}) cannot be concatenated")
    if tensors and tensors[0].ndim:
        (dim,) = normalize_dims(dim, tensors[0].ndim, "cat")
    _check_same("cat", tensors, dim)
    return Cat.apply(*tensors, dim=dim)


concat = cat


def stack(tensors, dim=0):
    tensors = _as_tensors(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {tuple(tensors[0].shape)} "
                f"and {tuple(t.shape)}"
            )
    if not -tensors[0].ndim - 1 <= dim <= tensors[0].ndim:
        raise IndexError(f"stack: dimension {dim} is out of range")
    return Stack.apply(*tensors, dim=dim % (tensors[0].ndim + 1))


def pad(input, pad, mode="constant", value=0.0):
    """F.pad: ``pad`` lists (before, after) pairs starting from the last dimension.

    A negative width in constant mode crops that side (as PyTorch); reflect padding must be
    smaller than the dimension it pads, circular padding at most that dimension.
    """
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ShapeError(
            f"pad: padding length {len(pad)} must be even and at most twice the number of "
            f"dimensions ({input.ndim}) of input {tuple(input.shape)}"
        )
    if mode not in ("constant", *_PAD_MODES):
        raise NotImplementedError(f"pad: mode must be constant, reflect, replicate or circular, got {mode!r}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode == "constant":
        return _pad_constant(input, widths, value)
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is only supported in constant mode, not {mode!r}")
    if len(pad) not in {2 * (input.ndim - 1), 2 * (input.ndim - 2)} & {2, 4, 6}:
        raise NotImplementedError(  # PyTorch pads the last 1-3 dims of a (batched or unbatched) 3-5-D input
            f"pad: padding size {len(pad)} is not supported for {input.ndim}D input tensor with mode {mode!r}; "
            "reflect, replicate and circular pad all spatial dims of a 2-D to 5-D input"
        )
    if mode != "circular" and 0 in input.shape[input.ndim - len(pad) // 2 - 1:]:
        raise RuntimeError(f"pad: {mode} padding needs non-empty channel and spatial dimensions (the batch may be "
                           f"empty), got input of shape {tuple(input.shape)}")
    for size, (before, after) in zip(input.shape, widths):
        if mode == "reflect" and max(before, after) >= size and (before or after):
            raise ShapeError(f"pad: reflect padding ({before}, {after}) must be smaller than the "
                             f"dimension it pads ({size}) for input of shape {tuple(input.shape)}")
        if mode == "circular" and max(before, after) > size:
            raise RuntimeError(f"pad: circular padding ({before}, {after}) wraps around more than once the "
                               f"dimension it pads ({size}) for input of shape {tuple(input.shape)}")
    return Pad.apply(input, tuple(widths), mode, value)


def _pad_constant(input, widths, value):
    """Constant padding; a negative width first crops that many elements from its side."""
    for size, (before, after) in zip(input.shape, widths):
        if size + before + after < 0:
            raise RuntimeError(f"pad: padding ({before}, {after}) leaves a negative size of the dimension of "
                               f"size {size} in input of shape {tuple(input.shape)}")
    if any(before < 0 or after < 0 for before, after in widths):
        input = input[tuple(slice(max(-before, 0), size - max(-after, 0))
                            for size, (before, after) in zip(input.shape, widths))]
        widths = [(max(before, 0), max(after, 0)) for before, after in widths]
    return Pad.apply(input, tuple(widths), "constant", value)


def cast(input, dtype):
    dtype = np.dtype(dtype)
    if input._array.dtype == dtype:
        return input
    if dtype.kind != "f" or input._array.dtype.kind != "f":
        return Tensor._make(input._array.astype(dtype), False)
    return Cast.apply(input, dtype)


def clone(input):
    return Clone.apply(input)

"""F.embedding_bag: the sum, mean or max of the embeddings of each bag of indices, without the (L, D) rows
ever being a layer's output.

Bag b holds the indices input[offsets[b] : offsets[b+1]] of a 1-D ``input`` (the last bag runs to the end;
with ``include_last_offset`` the offsets also hold a last entry, which PyTorch reads as "the end"), or row b
of a 2-D ``input`` (bags of equal length):

    sum:  y_b = Σ_{i ∈ b} s_i · W[x_i]      (s_i: ``per_sample_weights``, 1 when not given)
    mean: y_b = (1/|b|) Σ_{i ∈ b} W[x_i]
    max:  y_b = max_{i ∈ b} W[x_i]           (per column)

Indices equal to ``padding_idx`` are left out of their bag (not counted in the mean); an empty bag gives
zeros. Composed of the embedding lookup and index_add / scatter_reduce, so the gradients (to the table and
to ``per_sample_weights``) come from theirs.

Shape: input (L,) with offsets (B,) (or (B + 1,) with include_last_offset), or input (B, N); output (B, D).
"""

import numpy as np

from soma import backend
from soma._errors import DTypeError
from soma.nn._utils import beside
from soma.nn.functional.affine import embedding
from soma.tensor import Tensor

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


def _bags(index, offsets, include_last_offset):
    """(the bag of every used position, the number of bags, how many positions are used) on the host."""
    if index.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets).__name__}")
        bags, length = index.shape
        return np.repeat(np.arange(bags), length), bags, index.size
    if index.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {index.ndim}")
    if offsets is None or getattr(offsets, "ndim", 0) != 1:
        raise ValueError(f"offsets has to be a 1D Tensor but got {None if offsets is None else offsets.ndim}")
    starts = backend.to_numpy(offsets._array if isinstance(offsets, Tensor) else np.asarray(offsets))
    if starts.dtype.kind not in "iu":
        raise DTypeError(f"embedding_bag: offsets must be an integer tensor, got dtype {starts.dtype}")
    starts = starts.astype(np.int64)
    if starts.size and starts[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(starts[0])}")
    if starts.size and starts[-1] > index.size:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {index.size} but got offsets[-1] "
                           f"of {int(starts[-1])}")
    if np.any(np.diff(starts) < 0):
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got {starts.tolist()}")
    bags = len(starts) - 1 if include_last_offset else len(starts)
    ends = np.append(starts[1:bags], index.size)  # the last bag runs to the end (even past offsets[-1], as PyTorch)
    return np.repeat(np.arange(bags), ends - starts[:bags]), bags, index.size if bags else 0


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The sum, mean or max of each bag's embeddings (see the module docstring); ``sparse`` is accepted, the
    gradient is dense."""
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    index = input._array if isinstance(input, Tensor) else np.asarray(input)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"embedding_bag: input must be an integer tensor of indices, got dtype {index.dtype}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                      f"supported for mode='sum' (got mode='{mode}').")
        if tuple(per_sample_weights.shape) != tuple(index.shape):
            raise ValueError(f"embedding_bag: per_sample_weights of shape {tuple(per_sample_weights.shape)} must "
                             f"have the shape of input, {tuple(index.shape)}")
    host = backend.to_numpy(index).reshape(-1)
    bag_of, bags, used = _bags(index, offsets, include_last_offset)
    keep = np.ones(used, bool) if padding_idx is None else host[:used] != padding_idx % weight.shape[0]
    positions = np.flatnonzero(keep)
    rows = embedding(beside(weight, host[positions]), weight, None, max_norm, norm_type, scale_grad_by_freq)
    bag_of = bag_of[positions]  # on the host, for the counts; beside the weight, for the sums
    out = weight.new_zeros(bags, weight.shape[1])
    if mode == "max":
        return out.scatter_reduce(0, beside(weight, np.broadcast_to(bag_of[:, None], tuple(rows.shape)).copy()),
                                  rows, "amax", include_self=False)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1)[beside(weight, positions)].unsqueeze(1)
    total = out.index_add(0, beside(weight, bag_of), rows)
    if mode == "sum":
        return total
    counts = np.maximum(np.bincount(bag_of, minlength=bags), 1).astype(weight._array.dtype)
    return total / beside(weight, counts[:, None])

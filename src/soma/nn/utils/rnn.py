"""Variable-length sequences for recurrent layers, and truncated backpropagation through time.

A batch of sequences of different lengths is padded to the longest; the padding must
not leak into the recurrent state. PyTorch's answer, kept here with its names, is
the *packed* sequence: the valid time steps only, time-major, sorted by decreasing
length, with ``batch_sizes[t]`` = how many sequences are still running at step t::

    padded = pad_sequence([a, b, c])                      # (T_max, 3, *)
    packed = pack_padded_sequence(padded, lengths=[5, 3, 2], enforce_sorted=False)
    output, h_n = rnn(packed)                             # h_n: each row at its own last step
    output, lengths = pad_packed_sequence(output)         # zeros past each length

soma's recurrent kernels run on the padded batch with a mask (a step past a row's
length leaves its state alone), so packing here is bookkeeping with differentiable
indexing: the numbers are PyTorch's. As in PyTorch, the bookkeeping (lengths, ``batch_sizes``)
lives on the host; the data, the sort permutations and the index arrays that gather the data
live on the data's device.

Truncated BPTT (notes 003, "truncated Backpropagation through time"): to train on a
long sequence, cut it into chunks of k steps, carry the state from chunk to chunk,
but cut the graph at each boundary so backward only goes k steps back::

    state = None
    for chunk, target in zip(inputs.split(k, dim=0), targets.split(k, dim=0)):
        output, state = lstm(chunk, state)
        loss = loss_fn(head(output), target)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        state = detach_state(state)           # keep the values, forget the history

(see ``examples/char_rnn.py``).
"""

from collections import namedtuple

import numpy as np

from soma import backend
from soma.nn._utils import beside
from soma.ops.shape import cat, transpose
from soma.tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
    "detach_state",
]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """The valid steps of a batch of sequences, time-major, longest sequence first.

    Attributes:
        data: (sum of lengths, *) the steps, time step by time step.
        batch_sizes: (T_max,) int64, how many sequences are running at each step.
        sorted_indices: the batch order used for packing (None when it was already sorted).
        unsorted_indices: its inverse permutation (None when sorted).
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = beside(sorted_indices, np.argsort(_host(sorted_indices)))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def is_cuda(self):
        return False

    def _order(self):
        batch = int(_host(self.batch_sizes)[0])
        if self.sorted_indices is None:
            return np.arange(batch)
        return _host(self.sorted_indices).astype(np.int64)


def _host(value):
    """A bookkeeping value (lengths, batch sizes, a permutation; a tensor on any device or a list) on the host."""
    array = value._array if isinstance(value, Tensor) else value
    return backend.to_numpy(array) if backend.is_array(array) else np.asarray(array)


def _lengths(lengths):
    lengths = _host(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be a 1-D sequence of ints, got {lengths!r}")
    return lengths.astype(np.int64)


def _packed_index(order, lengths_sorted, batch_sizes):
    """(time, batch) coordinates of every packed row, time-major, sorted batch order."""
    time = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    batch = np.concatenate([order[:n] for n in batch_sizes])
    return time, batch


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *)) whose row b is valid for ``lengths[b]`` steps.

    With ``enforce_sorted=True`` the lengths must be decreasing; otherwise the batch is
    sorted internally and ``sorted_indices`` records how.
    """
    lengths = _lengths(lengths)
    if batch_first:
        input = transpose(input, 0, 1)
    T, B = input.shape[0], input.shape[1]
    if lengths.shape != (B,):
        raise ValueError(f"pack_padded_sequence: {len(lengths)} lengths for a batch of {B}")
    if lengths.min(initial=1) <= 0 or lengths.max(initial=0) > T:
        raise ValueError(f"pack_padded_sequence: lengths must lie in [1, {T}], got {lengths.tolist()}")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "pack_padded_sequence: lengths must be sorted in decreasing order with "
                f"enforce_sorted=True, got {lengths.tolist()}; pass enforce_sorted=False"
            )
        order, sorted_indices = np.arange(B), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = beside(input, order.astype(np.int64))
    lengths_sorted = lengths[order]
    batch_sizes = (lengths_sorted[None, :] > np.arange(lengths_sorted[0])[:, None]).sum(1)
    time, batch = _packed_index(order, lengths_sorted, batch_sizes)
    data = input[beside(input, time), beside(input, batch)]
    return PackedSequence(data, Tensor._make(batch_sizes.astype(np.int64), False), sorted_indices)


def _pad_packed(sequence, padding_value=0.0, total_length=None):
    """Padded (T, B, *) tensor in the original batch order, and the lengths (ndarray)."""
    data, batch_sizes = sequence.data, _host(sequence.batch_sizes).astype(np.int64)
    order = sequence._order()
    B, T = len(order), len(batch_sizes)
    lengths_sorted = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(1)
    lengths = np.empty(B, np.int64)
    lengths[order] = lengths_sorted
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} < longest sequence {T}")
        T = total_length
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    position = np.empty(B, np.int64)
    position[order] = np.arange(B)  # where each original row sits in the sorted order
    pad_row = data.shape[0]
    index = np.full((T, B), pad_row, np.int64)
    valid = np.arange(T)[:, None] < lengths[None, :]
    rows = offsets[:, None] + position[None, :]
    index[: len(batch_sizes)][valid[: len(batch_sizes)]] = rows[valid[: len(batch_sizes)]]
    filler = np.full((1,) + tuple(data.shape[1:]), padding_value, data.dtype, like=data._array)
    return cat([data, Tensor._make(filler, False)], 0)[beside(data, index)], lengths


def _repack(padded, like):
    """Pack a time-major padded tensor in original batch order the way ``like`` is packed."""
    batch_sizes = _host(like.batch_sizes).astype(np.int64)
    time, batch = _packed_index(like._order(), None, batch_sizes)
    return PackedSequence(padded[beside(padded, time), beside(padded, batch)], like.batch_sizes,
                          like.sorted_indices, like.unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of :func:`pack_padded_sequence`: returns (padded, lengths) in the original order."""
    padded, lengths = _pad_packed(sequence, padding_value, total_length)
    if batch_first:
        padded = transpose(padded, 0, 1)
    return padded, Tensor._make(lengths, False)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding the rest."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise ValueError(f"pad_sequence: trailing shapes differ: {trailing} and {tuple(s.shape[1:])}")
    lengths = np.array([s.shape[0] for s in sequences], np.int64)
    T = int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    total = int(lengths.sum())
    steps = np.arange(T)[:, None]
    shift = (T - lengths)[None, :] if padding_side == "left" else 0
    local = steps - shift
    index = np.where((local >= 0) & (local < lengths[None, :]), starts[None, :] + local, total)
    dtype = sequences[0].dtype
    filler = Tensor._make(np.full((1,) + trailing, padding_value, dtype, like=sequences[0]._array), False)
    padded = cat([*sequences, filler], 0)[beside(filler, index)]
    return transpose(padded, 0, 1) if batch_first else padded


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) directly."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of tensors of their own lengths."""
    lengths = _lengths(lengths)
    if not batch_first:
        padded_sequences = transpose(padded_sequences, 0, 1)
    return [padded_sequences[b, : int(n)] for b, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """Split a PackedSequence back into a list of tensors of their own lengths."""
    padded, lengths = _pad_packed(packed_sequences)
    return unpad_sequence(padded, lengths)


def detach_state(state):
    """Cut a recurrent state (a tensor, or a tuple like LSTM's (h, c)) from its graph.

    The values are kept; backward will stop here. This is the one line truncated
    BPTT needs between chunks (see the module docstring for the recipe).
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)

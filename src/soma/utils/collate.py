"""``default_collate``: turn a list of samples into one batch, as PyTorch does.

A sample is whatever ``dataset[i]`` returns; the batch has the same structure
with a new leading batch dimension on every leaf:

==========================  ==================================================
each sample is              the batch is
==========================  ==================================================
Tensor / ndarray ``(*s)``   Tensor ``(B, *s)`` (stacked)
float / int / bool          Tensor ``(B,)`` of float64 / int64 / bool
NumPy scalar                Tensor ``(B,)`` of its dtype
str / bytes                 the list of them, unchanged
dict                        dict with each key's values collated
namedtuple                  the same namedtuple of collated fields
tuple / list                a list of collated fields (PyTorch's choice)
==========================  ==================================================
"""

import collections.abc
import numbers

import numpy as np

from soma.tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _stack(arrays):
    return Tensor._make(np.stack(arrays), False)


def default_collate(batch):
    """Collate a list of samples into a batch (see the module's table).

    Example:
        >>> batch = default_collate([(soma.tensor([1., 2.]), 0), (soma.tensor([3., 4.]), 1)])
        >>> batch[0].shape, batch[1]
        ((2, 2), tensor([0, 1]))
    """
    if not isinstance(batch, collections.abc.Sequence) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {batch!r}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(sample.requires_grad for sample in batch):
            from soma.ops import stack

            return stack(list(batch))
        return _stack([sample._array for sample in batch])
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: cannot batch arrays of dtype {elem.dtype}")
        return _stack(batch)
    if isinstance(elem, np.generic):
        return Tensor._make(np.array(batch, dtype=elem.dtype), False)
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_), False)
    if isinstance(elem, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64), False)
    if isinstance(elem, numbers.Real):
        return Tensor._make(np.array(batch, dtype=np.float64), False)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)  # keeps OrderedDict and other dict subclasses
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch, strict=True)]
    raise TypeError(
        "default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


def default_convert(data):
    """Turn NumPy arrays (also inside dicts and sequences) into tensors, without batching."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return Tensor._make(data, False)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(value) for value in data]
    return data

"""Type aliases of the public nn, optim, data and train signatures (as ``torch.nn.common_types``).

``_size_any_t`` is PyTorch's int-or-tuple convention (``kernel_size=3`` or ``(3, 5)``);
``DTypeLike`` is what soma's ``dtype=`` takes (``soma.float32``, a NumPy dtype or its name);
``DeviceLike`` what ``device=`` takes (``"cpu"``, ``soma.device("cpu")``).
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from soma._device import device
from soma.tensor import Tensor

__all__ = ["_size_any_t", "_size_1_t", "_size_2_t", "_ratio_any_t", "DTypeLike", "DeviceLike", "ParamsT",
           "LossClosure", "TensorLike", "Generator"]

_size_any_t: TypeAlias = int | tuple[int, ...]
_size_1_t: TypeAlias = int | tuple[int]
_size_2_t: TypeAlias = int | tuple[int, int]
_ratio_any_t: TypeAlias = float | tuple[float, ...]
DTypeLike: TypeAlias = npt.DTypeLike
DeviceLike: TypeAlias = str | device
# an optimizer's params: tensors, or parameter groups (dicts with "params" and per-group options)
ParamsT: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]]
LossClosure: TypeAlias = Callable[[], Any]
TensorLike: TypeAlias = Tensor | np.ndarray
Generator: TypeAlias = np.random.Generator | int

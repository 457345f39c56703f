"""``Variable``, PyTorch's name from before tensors carried gradients (kept for old code).

``Variable(t, requires_grad=True)`` is a tensor sharing t's memory, cut from t's graph, with the given
``requires_grad``; every soma tensor passes ``isinstance(x, Variable)``, as every torch tensor does.
"""

import warnings

from soma.tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with soma.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            from soma import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)

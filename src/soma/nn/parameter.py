"""``torch.nn.parameter``'s import path: Parameter and Buffer (defined in ``soma.nn.module``) and the
lazy layers' UninitializedParameter and UninitializedBuffer (``soma.nn.lazy``)."""

from soma.nn.lazy import UninitializedBuffer, UninitializedParameter
from soma.nn.module import Buffer, Parameter

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]

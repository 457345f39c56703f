"""``torch.nn.modules.lazy``'s import path for soma's own class (defined in ``soma.nn.lazy``)."""

from soma.nn.lazy import LazyModuleMixin

__all__ = ["LazyModuleMixin"]

"""``torch.nn.modules.fold``'s import path for soma's own classes
(defined in ``soma.nn.fold``)."""

from soma.nn.fold import Fold, Unfold

__all__ = ["Fold", "Unfold"]

"""``torch.nn.modules.dropout``'s import path for soma's own classes
(defined in ``soma.nn.dropout``).

Not in soma: AlphaDropout, FeatureAlphaDropout.
"""

from soma.nn.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]

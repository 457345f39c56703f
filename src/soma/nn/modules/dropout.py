"""``torch.nn.modules.dropout``'s import path for soma's own classes
(defined in ``soma.nn.dropout``).
"""

from soma.nn.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]

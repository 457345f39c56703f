"""``torch.nn.modules.pooling``'s import path for soma's own classes
(defined in ``soma.nn.pooling``).

Not in soma: MaxPool3d, MaxUnpool3d, AvgPool3d, FractionalMaxPool2d, FractionalMaxPool3d, LPPool3d,
AdaptiveMaxPool3d, AdaptiveAvgPool3d.
"""

from soma.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
)

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "LPPool1d", "LPPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d", "MaxUnpool2d"]

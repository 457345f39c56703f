"""``torch.nn.modules.upsampling``'s import path for soma's own classes
(defined in ``soma.nn.upsampling``)."""

from soma.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]

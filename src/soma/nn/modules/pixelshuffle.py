"""``torch.nn.modules.pixelshuffle``'s import path for soma's own classes
(defined in ``soma.nn.upsampling``)."""

from soma.nn.upsampling import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]

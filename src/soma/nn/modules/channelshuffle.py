"""``torch.nn.modules.channelshuffle``'s import path for soma's own class (defined in ``soma.nn.upsampling``)."""

from soma.nn.upsampling import ChannelShuffle

__all__ = ["ChannelShuffle"]

"""Utilities that sit beside the model: data loading (:mod:`soma.utils.data`) and activation checkpointing's
names (:mod:`soma.utils.checkpoint`).

As in PyTorch, ``from soma.utils.data import DataLoader, TensorDataset``.
"""

from soma.utils import checkpoint, data

__all__ = ["checkpoint", "data"]

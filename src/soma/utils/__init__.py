"""Utilities that sit beside the model: data loading (:mod:`soma.utils.data`).

As in PyTorch, ``from soma.utils.data import DataLoader, TensorDataset``.
"""

from soma.utils import data

__all__ = ["data"]

"""soma.nn.modules.<file> holds, under PyTorch's module paths, the very classes soma.nn has."""

import importlib

import pytest
import torch  # noqa: F401  (the oracle for which names live where)

import soma.nn as nn

PATHS = ["linear", "conv", "activation", "loss", "pooling", "normalization", "batchnorm", "rnn", "dropout",
         "container", "sparse", "module", "flatten", "pixelshuffle", "upsampling", "fold", "transformer",
         "padding", "distance", "channelshuffle", "lazy"]


@pytest.mark.parametrize("path", PATHS)
def test_each_path_exports_what_pytorch_has_there_and_soma_has(path):
    ours = importlib.import_module(f"soma.nn.modules.{path}")
    theirs = importlib.import_module(f"torch.nn.modules.{path}")
    expected = [name for name in theirs.__all__ if hasattr(nn, name)]
    assert sorted(ours.__all__) == sorted(expected)
    for name in ours.__all__:
        assert getattr(ours, name) is getattr(nn, name), name
        assert getattr(nn.modules, name) is getattr(nn, name), name
    for name in set(theirs.__all__) - set(expected):  # every omission is named in the docstring
        assert name in ours.__doc__, name


def test_pytorch_style_imports_work():
    from soma.nn.modules.conv import Conv2d
    from soma.nn.modules.linear import Linear
    from soma.nn.modules.module import Module

    layer = Linear(2, 3)
    assert isinstance(layer, Module) and isinstance(nn.Conv2d(1, 1, 1), Conv2d)
    assert nn.modules.rnn.LSTM is nn.LSTM and nn.modules.sparse.Embedding is nn.Embedding

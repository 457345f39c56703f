"""Layer constructors as PyTorch's: the factory keywords ``device=``/``dtype=``, and bad sizes.

Every module that PyTorch gives ``device``/``dtype`` takes them: ``dtype`` creates the parameters
(and floating buffers) in that dtype, ``device="cpu"`` works and a device this machine lacks is a
RuntimeError naming the layer. Constructors with bad sizes raise where PyTorch's raise, with its
exception type, and build where PyTorch's build (zero sizes are legal in PyTorch).
"""

import warnings

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn

FACTORY = [
    ("Linear", (4, 3)), ("Bilinear", (3, 4, 2)), ("Conv1d", (4, 6, 3)), ("Conv2d", (4, 6, 3)),
    ("ConvTranspose1d", (4, 6, 3)), ("ConvTranspose2d", (4, 6, 3)), ("BatchNorm1d", (3,)), ("BatchNorm2d", (3,)),
    ("BatchNorm3d", (3,)), ("LayerNorm", (4,)), ("GroupNorm", (2, 4)), ("Embedding", (5, 3)), ("RNN", (3, 4)),
    ("LSTM", (3, 4)), ("GRU", (3, 4)), ("RNNCell", (3, 4)), ("LSTMCell", (3, 4)), ("GRUCell", (3, 4)), ("PReLU", ()),
]


@pytest.mark.parametrize("name,args", FACTORY, ids=[f[0] for f in FACTORY])
def test_factory_keywords(name, args):
    for device in ("cpu", soma.device("cpu"), None):
        layer = getattr(nn, name)(*args, device=device, dtype=soma.float64)
        ref = getattr(torch.nn, name)(*args, dtype=torch.float64)
        assert list(layer.state_dict()) == list(ref.state_dict())
        for key, value in layer.state_dict().items():
            assert value.dtype == np.dtype(str(ref.state_dict()[key].dtype).replace("torch.", "")), key
    assert all(p.dtype == np.float32 for p in getattr(nn, name)(*args).parameters())
    with pytest.raises(RuntimeError, match=f"{name}: device 'cuda' was asked for, but CUDA is not available"):
        getattr(nn, name)(*args, device="cuda")
    with pytest.raises(TypeError, match="floating point"):
        getattr(nn, name)(*args, dtype=soma.int64)


BAD = [
    ("Linear", (0, 3)), ("Linear", (-1, 3)), ("Linear", (4, -2)), ("Linear", (4, 0)), ("Bilinear", (3, -4, 2)),
    ("Conv2d", (4, 6, 0)), ("Conv2d", (4, 6, 3), dict(stride=0)), ("Conv2d", (4, 6, 3), dict(groups=3)),
    ("Conv2d", (4, 6, 3), dict(groups=0)), ("Conv2d", (0, 6, 3)), ("Conv2d", (4, 6, 3), dict(padding=-1)),
    ("Conv2d", (4, 6, 3), dict(dilation=0)), ("Conv2d", (4, 6, 3), dict(padding="same", stride=2)),
    ("Conv2d", (4, 6, 3), dict(padding="bogus")), ("Conv2d", (4, 6, 3), dict(padding_mode="bogus")),
    ("Conv1d", (4, 6, -1)), ("Conv1d", (4, 6, 2), dict(stride=-1)), ("ConvTranspose2d", (4, 6, 3), dict(groups=3)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=0)), ("ConvTranspose1d", (4, 6, 0)),
    ("BatchNorm1d", (0,)), ("BatchNorm1d", (-1,)), ("LayerNorm", (0,)), ("LayerNorm", (-2,)), ("GroupNorm", (3, 4)),
    ("GroupNorm", (2, 0)), ("Embedding", (0, 3)), ("Embedding", (5, -1)),
    ("RNN", (0, 4)), ("RNN", (3, 0)), ("RNN", (3, 4), dict(num_layers=0)), ("RNN", (3, 4), dict(dropout=1.5)),
    ("RNN", (3, -4)), ("LSTM", (3, 4), dict(proj_size=-1)), ("GRU", (3, 4), dict(num_layers=-1)),
    ("RNN", (3, 4.0)), ("RNNCell", (0, 4)), ("RNNCell", (3, 0)), ("LSTMCell", (3, -1)), ("GRUCell", (-3, 4)),
    ("MaxPool2d", (0,)), ("MaxPool2d", (2,), dict(stride=0)), ("AvgPool1d", (2,), dict(stride=0)),
    ("PReLU", (0,)), ("PReLU", (-1,)), ("Dropout", (-0.1,)), ("Dropout", (1.1,)), ("Dropout2d", (2,)),
    ("Softplus", (0,)), ("CELU", (0,)),
]


@pytest.mark.parametrize("case", BAD, ids=[f"{c[0]}{c[1]}{c[2] if len(c) > 2 else ''}" for c in BAD])
def test_bad_sizes_raise_where_torch_raises(case):
    name, args, kwargs = case[0], case[1], case[2] if len(case) > 2 else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            getattr(torch.nn, name)(*args, **kwargs)
            theirs = None
        except Exception as error:  # noqa: BLE001  (the oracle's type is what is compared)
            theirs = type(error)
        if theirs is None:
            getattr(nn, name)(*args, **kwargs)
        else:
            with pytest.raises(theirs, match=name):
                getattr(nn, name)(*args, **kwargs)


def test_soma_only_layers_check_device_and_make_dtype():
    layer = nn.RecursiveNN(4, num_embeddings=5, device="cpu", dtype=soma.float64)
    assert {p.dtype for p in layer.parameters()} == {np.dtype(np.float64)}
    with pytest.raises(RuntimeError, match="RecursiveNN: device 'cuda' was asked for"):
        nn.RecursiveNN(4, device="cuda")

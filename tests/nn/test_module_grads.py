"""Every layer with parameters or buffers against PyTorch, weights randomized first: outputs, dtypes,
input gradients, every parameter's gradient by name, and the buffers after the forward.

Constant initializations (BatchNorm's γ = 1, β = 0, running statistics; LayerNorm/GroupNorm affine;
PReLU's 0.25; zero biases; Embedding's zero padding row) are overwritten with random values by
``randomize_module`` before the weights are copied into soma, so a wrong gradient of β or a wrong use
of a running statistic cannot hide behind a zero or a one.
"""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
from helpers import check_module_against_torch, copy_weights_from_torch, random_array, randomize_module

T = torch.nn

# (id, soma constructor, torch constructor, input shapes; "index" is an integer index array)
CASES = [
    ("Linear", lambda d: nn.Linear(4, 3, dtype=d), lambda d: T.Linear(4, 3, dtype=d), [(5, 4)]),
    ("Linear-3d", lambda d: nn.Linear(4, 3, dtype=d), lambda d: T.Linear(4, 3, dtype=d), [(2, 5, 4)]),
    ("Linear-batch0", lambda d: nn.Linear(4, 3, dtype=d), lambda d: T.Linear(4, 3, dtype=d), [(0, 4)]),
    ("Bilinear", lambda d: nn.Bilinear(3, 4, 2, dtype=d), lambda d: T.Bilinear(3, 4, 2, dtype=d), [(5, 3), (5, 4)]),
    ("Conv1d", lambda d: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=d),
     lambda d: T.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=d), [(2, 4, 9)]),
    ("Conv2d", lambda d: nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dilation=2, dtype=d),
     lambda d: T.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dilation=2, dtype=d), [(2, 4, 9, 8)]),
    ("Conv2d-reflect", lambda d: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", dtype=d),
     lambda d: T.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", dtype=d), [(2, 2, 5, 5)]),
    ("ConvTranspose1d", lambda d: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=d),
     lambda d: T.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=d), [(2, 4, 7)]),
    ("ConvTranspose2d", lambda d: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=d),
     lambda d: T.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=d), [(2, 4, 5, 6)]),
    ("BatchNorm1d", lambda d: nn.BatchNorm1d(3, dtype=d), lambda d: T.BatchNorm1d(3, dtype=d), [(6, 3)]),
    ("BatchNorm1d-cumulative", lambda d: nn.BatchNorm1d(3, momentum=None, dtype=d),
     lambda d: T.BatchNorm1d(3, momentum=None, dtype=d), [(6, 3, 4)]),
    ("BatchNorm1d-no-bias", lambda d: nn.BatchNorm1d(3, dtype=d, bias=False),
     lambda d: T.BatchNorm1d(3, dtype=d, bias=False), [(6, 3, 4)]),
    ("BatchNorm2d", lambda d: nn.BatchNorm2d(3, dtype=d), lambda d: T.BatchNorm2d(3, dtype=d), [(2, 3, 4, 5)]),
    ("BatchNorm2d-eval", lambda d: nn.BatchNorm2d(3, dtype=d).eval(), lambda d: T.BatchNorm2d(3, dtype=d).eval(),
     [(2, 3, 4, 5)]),
    ("BatchNorm3d", lambda d: nn.BatchNorm3d(3, dtype=d), lambda d: T.BatchNorm3d(3, dtype=d), [(2, 3, 2, 4, 5)]),
    ("LayerNorm", lambda d: nn.LayerNorm((4, 5), dtype=d), lambda d: T.LayerNorm((4, 5), dtype=d), [(2, 3, 4, 5)]),
    ("GroupNorm", lambda d: nn.GroupNorm(2, 4, dtype=d), lambda d: T.GroupNorm(2, 4, dtype=d), [(3, 4, 5)]),
    ("GroupNorm-4d", lambda d: nn.GroupNorm(3, 6, dtype=d), lambda d: T.GroupNorm(3, 6, dtype=d), [(2, 6, 3, 3)]),
    ("PReLU", lambda d: nn.PReLU(3, dtype=d), lambda d: T.PReLU(3, dtype=d), [(4, 3, 5)]),
    ("PReLU-shared", lambda d: nn.PReLU(dtype=d), lambda d: T.PReLU(dtype=d), [(4, 3, 5)]),
    ("Embedding-padding", lambda d: nn.Embedding(6, 4, padding_idx=2, dtype=d),
     lambda d: T.Embedding(6, 4, padding_idx=2, dtype=d), ["index"]),
    ("RNN", lambda d: nn.RNN(3, 4, num_layers=2, bidirectional=True, dtype=d),
     lambda d: T.RNN(3, 4, num_layers=2, bidirectional=True, dtype=d), [(5, 2, 3)]),
    ("RNN-relu", lambda d: nn.RNN(3, 4, nonlinearity="relu", batch_first=True, dtype=d),
     lambda d: T.RNN(3, 4, nonlinearity="relu", batch_first=True, dtype=d), [(2, 5, 3)]),
    ("LSTM", lambda d: nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=d),
     lambda d: T.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=d), [(5, 2, 3)]),
    ("LSTM-unbatched", lambda d: nn.LSTM(3, 4, dtype=d), lambda d: T.LSTM(3, 4, dtype=d), [(5, 3)]),
    ("GRU", lambda d: nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=d),
     lambda d: T.GRU(3, 4, num_layers=2, bidirectional=True, dtype=d), [(5, 2, 3)]),
    ("GRU-h0", lambda d: nn.GRU(3, 4, dtype=d), lambda d: T.GRU(3, 4, dtype=d), [(5, 2, 3), (1, 2, 4)]),
    ("RNNCell", lambda d: nn.RNNCell(3, 4, dtype=d), lambda d: T.RNNCell(3, 4, dtype=d), [(2, 3), (2, 4)]),
    ("LSTMCell", lambda d: nn.LSTMCell(3, 4, dtype=d), lambda d: T.LSTMCell(3, 4, dtype=d), [(2, 3)]),
    ("GRUCell", lambda d: nn.GRUCell(3, 4, dtype=d), lambda d: T.GRUCell(3, 4, dtype=d), [(2, 3), (2, 4)]),
    ("GRUCell-unbatched", lambda d: nn.GRUCell(3, 4, dtype=d), lambda d: T.GRUCell(3, 4, dtype=d), [(3,)]),
]


def _inputs(shapes, dtype):
    return [np.array([[0, 2, 5], [2, 2, 1]]) if shape == "index" else random_array(shape, dtype, seed=i)
            for i, shape in enumerate(shapes)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,make_soma,make_torch,shapes", CASES, ids=[c[0] for c in CASES])
def test_module_parameter_gradients_match_torch(name, make_soma, make_torch, shapes, dtype):
    # float32 recurrences through random N(0, 1) weights lose a few digits to cancellation
    loose = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 and name[:3] in ("RNN", "LST", "GRU") else {}
    layer, ref = make_soma(dtype), make_torch(getattr(torch, np.dtype(dtype).name))
    check_module_against_torch(layer, ref, _inputs(shapes, dtype), **loose)
    assert all(p.dtype == dtype for p in layer.parameters())


class _TorchSwish(T.Module):
    def __init__(self):
        super().__init__()
        self.beta = T.Parameter(torch.ones(1))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


def test_trainable_swish_beta_gradient():
    check_module_against_torch(nn.Swish(trainable=True), _TorchSwish(), [random_array((4, 5), np.float32)])


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_reset_running_stats_and_parameters(name):
    layer, ref = getattr(nn, name)(3).double(), getattr(T, name)(3, dtype=torch.float64)
    randomize_module(ref, seed=3)
    copy_weights_from_torch(ref, layer)
    layer.reset_running_stats()
    ref.reset_running_stats()
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(layer.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    randomize_module(ref, seed=4)
    copy_weights_from_torch(ref, layer)
    layer.reset_parameters()
    ref.reset_parameters()
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(layer.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_layer_norm_reset_parameters():
    layer, ref = nn.LayerNorm(5).double(), T.LayerNorm(5, dtype=torch.float64)
    randomize_module(ref)
    copy_weights_from_torch(ref, layer)
    layer.reset_parameters()
    ref.reset_parameters()
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(layer.state_dict()[key].numpy(), value.numpy(), err_msg=key)


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalizes_rows_and_gradients_like_torch(norm_type):
    layer = nn.Embedding(6, 3, max_norm=1.0, norm_type=norm_type).double()
    ref = T.Embedding(6, 3, max_norm=1.0, norm_type=norm_type, dtype=torch.float64)
    index = np.array([[0, 3, 3], [5, 0, 1]])
    check_module_against_torch(layer, ref, [index])
    # the rows looked up were renormalized in place, the others left alone
    np.testing.assert_allclose(layer.weight.detach().numpy(), ref.weight.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_truncated_bptt_gradients_match_torch(kind):
    """Truncated BPTT (nn.utils.rnn.detach_state between chunks): after the second chunk's backward every
    parameter gradient equals torch's with ``.detach()``ed state, i.e. no gradient flows into chunk one."""
    from soma.nn.utils.rnn import detach_state

    layer, ref = getattr(nn, kind)(3, 4, dtype=np.float64), getattr(T, kind)(3, 4, dtype=torch.float64)
    randomize_module(ref, seed=5)
    copy_weights_from_torch(ref, layer)
    x = random_array((6, 2, 3), np.float64, seed=6)
    state, ref_state = None, None
    for chunk in (slice(0, 3), slice(3, 6)):
        layer.zero_grad()
        ref.zero_grad()
        out, state = layer(soma.tensor(x[chunk]), state)
        ref_out, ref_state = ref(torch.tensor(x[chunk]), ref_state)
        out.sum().backward()
        ref_out.sum().backward()
        state = detach_state(state)
        ref_state = tuple(s.detach() for s in ref_state) if kind == "LSTM" else ref_state.detach()
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(dict(layer.named_parameters())[name].grad.numpy(), p.grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=name)

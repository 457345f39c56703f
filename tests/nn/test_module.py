"""Module and containers with soma's layers: state_dict keys and values against same-structure torch
models, load_state_dict errors, hooks, modes, dtype conversion, repr."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
from helpers import check_against_torch, copy_weights_to_torch, random_array


def _build(self, lib):
    """The same structure in either framework (``lib`` is soma.nn or torch.nn)."""
    self.features = lib.Sequential(lib.Linear(6, 8), lib.BatchNorm1d(8), lib.ReLU(), lib.Dropout(0.3))
    self.blocks = lib.ModuleList([lib.Linear(8, 8), lib.LayerNorm(8)])
    self.heads = lib.ModuleDict({"cls": lib.Linear(8, 3), "emb": lib.Embedding(5, 8, padding_idx=0)})
    self.act = lib.PReLU(8)


def _forward(self, x):
    h = self.features(x)
    h = self.act(self.blocks[1](self.blocks[0](h)))
    return self.heads["cls"](h)


class SomaNet(nn.Module):
    def __init__(self, lib):
        super().__init__()
        _build(self, lib)

    forward = _forward


class TorchNet(torch.nn.Module):
    def __init__(self, lib):
        super().__init__()
        _build(self, lib)

    forward = _forward


def _pair():
    ours, theirs = SomaNet(nn).double(), TorchNet(torch.nn).double()
    copy_weights_to_torch(ours, theirs)
    return ours, theirs


def test_composite_state_dict_keys_shapes_and_order_match_torch():
    ours, theirs = _pair()
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert tuple(ours_sd[key].shape) == tuple(value.shape), key
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]


def test_composite_forward_backward_train_and_eval_match_torch():
    ours, theirs = _pair()
    for module in (ours, theirs):
        module.features[3].p = 0.0  # dropout masks come from different generators
    check_against_torch(ours, theirs, [random_array((7, 6))])
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        if q.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    ours.eval()
    theirs.eval()
    assert not ours.features[1].training
    check_against_torch(ours, theirs, [random_array((4, 6), seed=3)])
    np.testing.assert_allclose(ours.features[1].running_var.numpy(), theirs.features[1].running_var.numpy(),
                               rtol=1e-10)


def test_torch_weights_load_into_soma():
    ours, theirs = SomaNet(nn).double(), TorchNet(torch.nn).double()
    result = ours.load_state_dict({k: soma.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(ours.heads["cls"].weight.detach().numpy(),
                                  theirs.heads["cls"].weight.detach().numpy())


def test_load_state_dict_errors_name_the_keys():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    state = model.state_dict()
    missing = OrderedDict((k, v) for k, v in state.items() if k != "2.bias")
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: '2.bias'"):
        model.load_state_dict(missing)
    extra = OrderedDict(state, **{"3.weight": soma.zeros(1)})
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\) in state_dict: '3.weight'"):
        model.load_state_dict(extra)
    bad = OrderedDict(state)
    bad["0.weight"] = soma.zeros(2, 4)
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight.*\(2, 4\).*\(2, 3\)"):
        model.load_state_dict(bad)
    result = model.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["2.bias"]


def test_forward_hooks_see_every_layer():
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    shapes = []
    handles = [m.register_forward_hook(lambda mod, inp, out: shapes.append((type(mod).__name__, out.shape)))
               for m in model]
    model(soma.randn(5, 4))
    assert shapes == [("Linear", (5, 3)), ("Tanh", (5, 3)), ("Linear", (5, 2))]
    for h in handles:
        h.remove()
    model(soma.randn(5, 4))
    assert len(shapes) == 3
    model[2].register_forward_hook(lambda mod, inp, out: out * 0)
    assert np.all(model(soma.randn(2, 4)).detach().numpy() == 0)


def test_repr_matches_torch():
    ours = nn.Sequential(nn.Linear(4, 3, bias=False), nn.BatchNorm1d(3), nn.LeakyReLU(0.1), nn.Dropout(0.2),
                         nn.Flatten(), nn.Softmax(dim=1), nn.Embedding(4, 3), nn.ELU(), nn.GELU(), nn.Hardtanh())
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3, bias=False), torch.nn.BatchNorm1d(3),
                                 torch.nn.LeakyReLU(0.1), torch.nn.Dropout(0.2), torch.nn.Flatten(),
                                 torch.nn.Softmax(dim=1), torch.nn.Embedding(4, 3), torch.nn.ELU(),
                                 torch.nn.GELU(), torch.nn.Hardtanh())
    assert repr(ours) == repr(theirs)


def test_to_dtype_apply_zero_grad_and_parameter_count():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    assert sum(p.numel() for p in model.parameters()) == 16 + 8 + 10
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].num_batches_tracked.dtype == np.int64
    model(soma.randn(5, 3, dtype=soma.float64)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Linear", "Sequential"]
    model.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert np.all(model[0].weight.detach().numpy() == 0)


def _buffers_in(lib, zeros):
    """Buffers made every way PyTorch offers: Buffer attributes and register_buffer, persistent or not."""
    module = lib.Module()
    module.kept = lib.Buffer(zeros(2))
    module.scratch = lib.Buffer(zeros(3), persistent=False)
    module.register_buffer("stat", zeros(1))
    module.register_buffer("cache", zeros(4), persistent=False)
    return module


def test_non_persistent_buffers_stay_out_of_state_dict_as_in_torch():
    ours, theirs = _buffers_in(nn, soma.zeros), _buffers_in(torch.nn, torch.zeros)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["kept", "stat"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert type(ours.scratch) is soma.Tensor  # the module holds a plain tensor, as torch does
    # re-assigning a plain tensor keeps the name non-persistent; a persistent Buffer makes it persistent
    ours.scratch, theirs.scratch = soma.zeros(3), torch.zeros(3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.scratch, theirs.scratch = nn.Buffer(soma.zeros(3)), torch.nn.Buffer(torch.zeros(3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["kept", "scratch", "stat"]


def test_load_state_dict_with_non_persistent_buffers_as_in_torch():
    ours, theirs = _buffers_in(nn, soma.zeros), _buffers_in(torch.nn, torch.zeros)
    state = {"kept": np.full(2, 5.0, np.float32), "stat": np.full(1, 7.0, np.float32)}
    assert not any(ours.load_state_dict({k: soma.tensor(v) for k, v in state.items()}))
    assert not any(theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()}))
    np.testing.assert_array_equal(ours.kept.numpy(), theirs.kept.numpy())
    np.testing.assert_array_equal(ours.scratch.numpy(), theirs.scratch.numpy())  # untouched
    extra = dict(state, scratch=np.zeros(3, np.float32))
    for module, wrap in ((ours, soma.tensor), (theirs, torch.tensor)):
        with pytest.raises(RuntimeError, match="Unexpected key.*scratch"):
            module.load_state_dict({k: wrap(v) for k, v in extra.items()})
    result = ours.load_state_dict({k: soma.tensor(v) for k, v in extra.items()}, strict=False)
    expected = theirs.load_state_dict({k: torch.tensor(v) for k, v in extra.items()}, strict=False)
    assert (result.missing_keys, result.unexpected_keys) == (expected.missing_keys, expected.unexpected_keys)

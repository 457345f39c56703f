"""L1/L2 penalties (notes 002: 0.48 and 0.434), MaxNorm against torch.renorm, gradient clipping and
parameter vectors against torch.nn.utils."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
from helpers import copy_weights_to_torch, random_array


def test_notes_l1_l2_penalties():
    # notes 002: loss 0.4, w = (0.5, -0.3), λ = 0.1 -> L1 total 0.48, L2 total 0.434 (no ½ factor)
    w = soma.tensor([0.5, -0.3], dtype=soma.float64, requires_grad=True)
    l1 = 0.4 + nn.l1_penalty(w, 0.1)
    assert l1.item() == pytest.approx(0.48, abs=1e-15)
    l1.backward()
    np.testing.assert_allclose(w.grad.numpy(), [0.1, -0.1])  # λ·sign(w)
    w.grad = None
    l2 = 0.4 + nn.l2_penalty(w, 0.1)
    assert l2.item() == pytest.approx(0.434, abs=1e-15)
    l2.backward()
    np.testing.assert_allclose(w.grad.numpy(), [0.1, -0.06])  # 2λw


def test_penalties_over_module_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    expected = sum(np.abs(p._array).sum() for p in model.parameters())
    assert nn.l1_penalty(model, 0.5).item() == pytest.approx(0.5 * expected, rel=1e-5)
    expected2 = sum((p._array.astype(np.float64) ** 2).sum() for p in model.parameters())
    assert nn.l2_penalty(model.parameters(), 2.0).item() == pytest.approx(2 * expected2, rel=1e-5)
    with pytest.raises(ValueError, match="no tensors"):
        nn.l1_penalty([])


def test_max_norm_matches_torch_renorm():
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    for p in model.parameters():
        p._array[...] *= 4
    before = {n: p._array.copy() for n, p in model.named_parameters()}
    nn.MaxNorm(1.0)(model)
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            expected = torch.renorm(torch.tensor(before[name]), p=2, dim=0, maxnorm=1.0).numpy()
            np.testing.assert_allclose(p._array, expected, rtol=1e-12)
            assert np.all(np.linalg.norm(p._array, axis=1) <= 1.0 + 1e-9)
        else:
            np.testing.assert_array_equal(p._array, before[name])  # biases are not constrained
    with pytest.raises(ValueError, match="positive"):
        nn.MaxNorm(0)


@pytest.mark.parametrize("max_norm,norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, 1.0), (0.2, float("inf"))])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    ref = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    copy_weights_to_torch(model, ref)
    x = random_array((5, 4))
    model(soma.tensor(x)).sum().backward()
    ref(torch.tensor(x)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)
    ref_total = torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm, norm_type)
    assert total.item() == pytest.approx(ref_total.item(), rel=1e-12)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_nonfinite():
    w = nn.Parameter(soma.tensor([1.0, 2.0, 3.0]))
    (w * soma.tensor([-5.0, 0.1, 5.0])).sum().backward()
    nn.utils.clip_grad_value_([w], 1.0)
    assert w.grad.tolist() == pytest.approx([-1.0, 0.1, 1.0])
    w.grad = soma.tensor([float("nan"), 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)


def test_parameters_to_vector_round_trip():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    copy_weights_to_torch(model, ref)
    vec = nn.utils.parameters_to_vector(model.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(ref.parameters()).detach().numpy())
    new = soma.arange(vec.shape[0], dtype=soma.float32)
    nn.utils.vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(model.parameters()).detach().numpy(), new.numpy())
    with pytest.raises(ValueError, match="elements"):
        nn.utils.vector_to_parameters(soma.zeros(3), model.parameters())

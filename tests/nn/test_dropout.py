"""Dropout: inverted scaling, eval identity, seeded masks, channel dropout, gradients, errors."""

import numpy as np
import pytest

import soma
import soma.nn as nn
import soma.nn.functional as F


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_scales_kept_units_and_keeps_expectation(p):
    x = soma.ones(200, 500, requires_grad=True)
    y = F.dropout(x, p)
    values = np.unique(y.detach().numpy())
    np.testing.assert_allclose(values, [0.0, 1 / (1 - p)], rtol=1e-6)  # notes 004: 2.0 for p=0.5, 1.25 for p=0.2
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - (1 - p)) < 0.01
    assert abs(y.detach().numpy().mean() - 1) < 0.05
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # ∂y/∂x = mask/(1 - p)


def test_dropout_eval_is_identity_and_p_edges():
    layer = nn.Dropout(0.5)
    x = soma.randn(4, 5)
    layer.eval()
    assert layer(x) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    assert repr(layer) == "Dropout(p=0.5, inplace=False)"


def test_dropout_masks_follow_the_seed():
    soma.manual_seed(5)
    a = F.dropout(soma.ones(10, 10), 0.5).numpy()
    soma.manual_seed(5)
    b = F.dropout(soma.ones(10, 10), 0.5).numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, F.dropout(soma.ones(10, 10), 0.5).numpy())


def test_dropout2d_drops_whole_channels():
    x = soma.ones(8, 16, 5, 5, dtype=soma.float64)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert nn.Dropout1d(0.3)(soma.ones(2, 3, 4)).shape == (2, 3, 4)
    with pytest.raises(RuntimeError, match=r"dropout1d: expected a 2-D .* got shape \(2, 3, 4, 5\)"):
        F.dropout1d(soma.ones(2, 3, 4, 5), 0.5)
    with pytest.raises(RuntimeError, match="dropout2d"):
        F.dropout2d(soma.ones(3), 0.5)


def _dropped_together(y, ndim_mask):
    """The mask's shape as seen in an output of ones: which leading dims vary, which are constant."""
    flat = y.reshape(y.shape[:ndim_mask] + (-1,))
    return bool(np.all(flat.min(-1) == flat.max(-1)))


@pytest.mark.parametrize("name,shape,mask_dims", [
    ("dropout1d", (40, 30), 1), ("dropout1d", (6, 40, 30), 2),   # unbatched (C, L) and (N, C, L)
    ("dropout2d", (6, 40, 5), 2),                                 # 3-D is (N, C, L), as PyTorch 2.13
    ("dropout2d", (40, 5, 6), 2), ("dropout2d", (3, 40, 5, 6), 2), ("dropout2d", (3, 40, 2, 2, 2), 2),
    ("dropout2d", (60, 40), 2),
    ("dropout3d", (40, 2, 3, 3), 1), ("dropout3d", (3, 40, 2, 3, 3), 2), ("dropout3d", (40, 5), 1),
])
def test_channel_dropout_masks_have_torchs_shape(name, shape, mask_dims):
    """Every element of one mask entry is dropped together, and no coarser grouping is used (as torch)."""
    import warnings

    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, name)(soma.ones(*shape, dtype=soma.float64), 0.5).numpy()
        ref = getattr(torch.nn.functional, name)(torch.ones(*shape, dtype=torch.float64), 0.5).numpy()
    for out in (y, ref):
        assert _dropped_together(out, mask_dims)
        assert mask_dims == 0 or not _dropped_together(out, mask_dims - 1)  # finer than one level up
        assert set(np.unique(out)) <= {0.0, 2.0}


def test_dropout_probability_out_of_range():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(soma.ones(2), -0.1)

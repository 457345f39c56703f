"""F.affine_grid and F.grid_sample against PyTorch: values and gradients to the input, the grid and θ."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from tests.helpers import check_against_torch

import soma
import soma.nn.functional as F
from soma.autograd import gradcheck


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_matches_torch(mode, padding_mode, align_corners):
    rng = np.random.default_rng(0)
    x, grid = rng.standard_normal((2, 3, 5, 6)), rng.uniform(-1.3, 1.3, (2, 4, 7, 2))  # some points outside
    if mode == "nearest":  # no gradient to the grid (PyTorch's is zeros)
        check_against_torch(lambda t: F.grid_sample(t, soma.tensor(grid), mode, padding_mode, align_corners),
                            lambda t: TF.grid_sample(t, torch.tensor(grid), mode, padding_mode, align_corners), [x])
    else:
        check_against_torch(lambda t, g: F.grid_sample(t, g, mode, padding_mode, align_corners),
                            lambda t, g: TF.grid_sample(t, g, mode, padding_mode, align_corners), [x, grid])


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (1, 2, 3, 1)])
@pytest.mark.parametrize("align_corners", [True, False])
def test_affine_grid_matches_torch(size, align_corners):
    theta = np.random.default_rng(1).standard_normal((size[0], 2, 3)).astype(np.float32)
    with pytest.warns(UserWarning) if align_corners and min(size[2:]) == 1 else _nothing():
        check_against_torch(lambda t: F.affine_grid(t, size, align_corners),
                            lambda t: TF.affine_grid(t, size, align_corners), [theta])
    theta3 = np.random.default_rng(2).standard_normal((2, 3, 4))
    check_against_torch(lambda t: F.affine_grid(t, (2, 1, 2, 3, 4), align_corners),
                        lambda t: TF.affine_grid(t, (2, 1, 2, 3, 4), align_corners), [theta3])


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_spatial_transformer_step_gets_theta_gradients_as_torch():
    rng = np.random.default_rng(3)
    x, theta = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((2, 2, 3)) * 0.5

    def transform(lib, functional):
        return lambda t, th: functional.grid_sample(t, functional.affine_grid(th, (2, 1, 6, 6), False),
                                                    align_corners=False)

    check_against_torch(transform(soma, F), transform(torch, TF), [x, theta])
    assert gradcheck(lambda t, th: F.grid_sample(t, F.affine_grid(th, (2, 1, 3, 3), False), align_corners=False),
                     (soma.tensor(x[:, :, :4, :4], requires_grad=True), soma.tensor(theta, requires_grad=True)))


def test_bad_input_fails_as_torch():
    x, grid = soma.zeros(1, 1, 3, 3), soma.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic'"):
        F.grid_sample(x, grid, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
        F.grid_sample(x, grid, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="grid"):
        F.grid_sample(x, soma.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, grid.double(), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.grid_sample(x, grid)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(soma.zeros(1, 3, 4), (1, 1, 2, 2), False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(soma.zeros(1, 2, 3), (1, 2, 2), False)
    for padding_mode in ("zeros", "border", "reflection"):  # a NaN point gives NaN; an Inf pixel outside, nothing
        nan_point = F.grid_sample(soma.ones(1, 1, 2, 2), soma.full((1, 1, 1, 2), float("nan")), "bilinear",
                                  padding_mode, align_corners=False)
        assert np.isnan(nan_point.item())
    infinite = soma.tensor([[[[float("inf"), 1.0], [1.0, 1.0]]]])
    far = F.grid_sample(infinite, soma.tensor([[[[5.0, 5.0]]]]), align_corners=False)
    theirs = TF.grid_sample(torch.tensor(infinite.numpy()), torch.tensor([[[[5.0, 5.0]]]]), align_corners=False)
    assert far.item() == theirs.item() == 0.0

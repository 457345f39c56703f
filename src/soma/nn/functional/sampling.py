"""Sampling grids: F.affine_grid and F.grid_sample (spatial transformer networks).

``affine_grid(θ, size)`` gives, for every output pixel, the point of the input it reads: with the
output's own coordinates (x, y) normalized to [-1, 1], the point is θ·(x, y, 1)ᵀ. ``grid_sample`` then reads
the input there: a grid value (g_x, g_y) in [-1, 1] is the pixel position

.. code-block:: text

    align_corners=True:   u = (g + 1)/2 · (n - 1)       (-1 and 1 are the centres of the corner pixels)
    align_corners=False:  u = ((g + 1)·n - 1)/2          (-1 and 1 are the outer edges of the corner pixels)

and the value there is the bilinear mix of its four neighbours, y = Σ (1 - |u - i|)(1 - |v - j|) x[j, i]
(or the nearest pixel, ties to even). Outside the input, ``padding_mode`` reads 0 (``zeros``), the
clamped edge (``border``) or the mirrored image (``reflection``). Both functions are composed of soma's
differentiable ops, so the gradients reach the input, the grid and θ, as in PyTorch.

Shape: affine_grid θ (N, 2, 3) → (N, H, W, 2); grid_sample input (N, C, H_in, W_in) and grid
(N, H, W, 2) → (N, C, H, W).
"""

import warnings

import numpy as np

from soma import backend
from soma._errors import check_floating
from soma.nn._utils import beside
from soma.nn.functional.resampling import _cubic_weights
from soma.ops.arithmetic import where
from soma.tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]


def _base_coordinates(n, align_corners, dtype):
    """The normalized coordinates of n pixel centres (on the host): linspace(-1, 1, n), pulled in by (n - 1)/n
    without align_corners (a single pixel is at 0)."""
    if n <= 1:
        return np.zeros(max(n, 0), dtype)
    line = np.linspace(-1.0, 1.0, n, dtype=np.float64)
    if not align_corners:
        line = line * (n - 1) / n
    return line.astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps θ (N, 2, 3) for an output of ``size`` (N, C, H, W): pixel (i, j)
    reads θ·(x_j, y_i, 1)ᵀ. The 3-D form takes θ (N, 3, 4) and size (N, C, D, H, W)."""
    check_floating("affine_grid", theta)
    size = [int(s) for s in size]
    spatial = len(size) - 2
    if spatial not in (2, 3):
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (spatial, spatial + 1):
        raise ValueError(f"Expected a batch of {spatial}D affine matrices of shape Nx{spatial}x{spatial + 1} for "
                         f"size {size}. Got {tuple(theta.shape)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners is None:
        align_corners = False
    axes = [_base_coordinates(n, align_corners, theta.dtype) for n in reversed(size[2:])]  # x, y (, z)
    mesh = np.meshgrid(*axes[::-1], indexing="ij")[::-1]  # over (D,) H, W; components x, y (, z)
    base = np.stack([*mesh, np.ones_like(mesh[0])], axis=-1).reshape(1, -1, spatial + 1)
    points = beside(theta, base) @ theta.transpose(1, 2)
    return points.reshape(size[0], *size[2:], spatial)


_MODES, _PADDINGS = ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection")


def _unnormalize(g, n, align_corners):
    return (g + 1) * ((n - 1) / 2) if align_corners else ((g + 1) * n - 1) / 2


def _reflect(u, low2, high2):
    """u mirrored into [low2/2, high2/2] (PyTorch's reflect_coordinates; twice the bounds keep them integers)."""
    if low2 == high2:
        return u * 0
    low, span = low2 / 2, (high2 - low2) / 2
    distance = (u - low).abs()
    extra = distance.remainder(span)
    flips = Tensor._make(np.floor(distance._array / span), False)
    return where(flips.remainder(2) == 0, extra + low, span - extra + low)


def _pad_coordinate(u, n, padding_mode, align_corners):
    """A pixel coordinate after ``padding_mode``: unchanged (zeros), clamped (border) or mirrored (reflection)."""
    if padding_mode == "zeros":
        return u
    if padding_mode == "reflection":
        u = _reflect(u, 0, 2 * (n - 1)) if align_corners else _reflect(u, -1, 2 * n - 1)
    return u.clamp(0, n - 1)


def _taps(u, n, mode, padding_mode, align_corners):
    """[(integer pixel index array, weight tensor or 1)] along one axis for every output point."""
    if mode == "bicubic":
        start = np.floor(u._array)
        weights = _cubic_weights(u - Tensor._make(start, False))
        taps = []
        for k, weight in enumerate(weights):
            at = Tensor._make(start + (k - 1), False)
            taps.append((_pad_coordinate(at, n, padding_mode, align_corners)._array, weight))
        return taps
    u = _pad_coordinate(u, n, padding_mode, align_corners)
    if mode == "nearest":
        return [(np.rint(u._array), 1)]
    low = np.floor(u._array)
    high_share = u - Tensor._make(low, False)
    return [(low, 1 - high_share), (low + 1, high_share)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Read ``input`` (N, C, H_in, W_in) at the points of ``grid`` (N, H, W, 2), given as (x, y) in [-1, 1]; see
    the module docstring for the coordinate rule, the modes and the padding modes. ``nearest`` gives the
    grid no gradient (PyTorch's is zeros). A NaN point gives NaN (PyTorch's kernels disagree among themselves
    there, and crash on some)."""
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    check_floating("grid_sample", input)
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample: expected 4-D input (N, C, H, W) and grid (N, H_out, W_out, 2) with the "
                           f"same N, got input {tuple(input.shape)} and grid {tuple(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0.",
                      UserWarning, stacklevel=2)
        align_corners = False
    n, c, h, w = input.shape
    out_h, out_w = grid.shape[1:3]
    flat = input.reshape(n, c, h * w)
    with np.errstate(invalid="ignore"):
        columns = _taps(_unnormalize(grid[..., 0], w, align_corners), w, mode, padding_mode, align_corners)
        rows = _taps(_unnormalize(grid[..., 1], h, align_corners), h, mode, padding_mode, align_corners)
        out = None
        for x, weight_x in columns:
            for y, weight_y in rows:
                inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)  # NaN is outside
                index = (np.clip(np.nan_to_num(y), 0, h - 1) * w + np.clip(np.nan_to_num(x), 0, w - 1)).astype(np.int64)
                index = np.broadcast_to(index.reshape(n, 1, -1), (n, c, out_h * out_w))
                values = flat.gather(2, Tensor._make(backend.contiguous(index), False)).reshape(n, c, out_h, out_w)
                term = where(Tensor._make(inside[:, None], False), values, 0.0)  # padding reads 0 (not 0·Inf)
                if mode != "nearest":
                    term = term * (weight_x * weight_y).unsqueeze(1)  # a NaN point's NaN weights make NaN
                out = term if out is None else out + term
    return out

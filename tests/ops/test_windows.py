"""soma's signal windows against PyTorch's: values for every length, periodic or symmetric, dtypes, errors."""

import numpy as np
import pytest
import torch
from tests.helpers import raises_like_torch

import soma

WINDOWS = {"hann_window": {}, "hamming_window": {"alpha": 0.6, "beta": 0.35}, "blackman_window": {},
           "bartlett_window": {}, "kaiser_window": {"beta": 5.5}}


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, periodic):
    for n in (0, 1, 2, 5, 16, 33):
        for extra in ({}, WINDOWS[name]):
            mine = getattr(soma, name)(n, periodic, dtype=soma.float64, **extra)
            theirs = getattr(torch, name)(n, periodic, dtype=torch.float64, **extra)
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14, err_msg=f"{n} {extra}")
    assert getattr(soma, name)(8).dtype == soma.float32 and getattr(soma, name)(8, dtype=soma.float16).dtype == soma.float16
    np.testing.assert_allclose(getattr(soma, name)(9).numpy(), getattr(torch, name)(9).numpy(), rtol=1e-6, atol=1e-6)
    assert getattr(soma, name)(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("name", WINDOWS)
def test_window_errors_like_torch(name):
    raises_like_torch(lambda lib: getattr(lib, name)(-1))
    raises_like_torch(lambda lib: getattr(lib, name)(2.5))
    raises_like_torch(lambda lib: getattr(lib, name)(4, dtype=lib.int64))

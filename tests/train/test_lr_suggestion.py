"""lr_range_test's suggestion: fastai's steepest descent of the smoothed curve, marked on the plot."""

import numpy as np
import pytest

from soma.explain.lr_finder import LRRangeTest


def _fastai_steep(lrs, smoothed, num_it):
    """fastai's ``steep`` on ``Learner.lr_find``'s curve (the first tenth of the iterations dropped)."""
    lrs, losses = np.asarray(lrs[num_it // 10 :]), np.asarray(smoothed[num_it // 10 :])
    grads = (losses[1:] - losses[:-1]) / (np.log(lrs[1:]) - np.log(lrs[:-1]))
    return lrs[grads.argmin()]


def _sweep():
    """A typical range test: the average still settling early on, a long descent, a minimum, divergence."""
    lrs = np.geomspace(1e-6, 10, 100)
    x = np.log10(lrs)
    smoothed = 2.3 - 1.5 / (1 + np.exp(-3 * (x + 2))) + np.where(x > -0.3, 8 * (x + 0.3) ** 2, 0.0)
    smoothed[:6] = [3.4, 3.0, 2.6, 2.4, 2.33, 2.31]  # the first steps' bias-corrected average: steep, meaningless
    stop = 10 + int(np.argmax(smoothed[10:] > 4 * smoothed.min()))  # the sweep stops when the loss diverges
    return LRRangeTest(lrs[:stop].tolist(), smoothed[:stop].tolist(), smoothed[:stop].tolist(), True, 100)


def test_the_suggestion_is_fastais_steepest_descent_of_the_smoothed_curve():
    result = _sweep()
    expected = _fastai_steep(result.lrs, result.smoothed, 100)
    assert result.suggested_lr == pytest.approx(expected, rel=1e-12)
    assert result.suggested_lr == pytest.approx(1e-2, rel=0.15)  # the middle of the descent
    assert result.suggested_lr < result.min_loss_lr / 10  # well before the minimum, far from divergence


def test_the_plot_marks_the_suggested_point_on_the_smoothed_curve():
    pytest.importorskip("matplotlib")
    result = _sweep()
    axes = result.figure().axes[0]
    marked = [line for line in axes.get_lines() if line.get_marker() == "o"]
    assert len(marked) == 1
    (x,), (y,) = marked[0].get_data()
    assert x == result.suggested_lr and y == result.smoothed[result.lrs.index(x)]
    assert "suggested" in marked[0].get_label()

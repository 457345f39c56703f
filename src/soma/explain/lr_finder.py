"""``lr_range_test``: sweep the learning rate exponentially and watch the loss.

The notes (002, "learning-rate curves A-D") read a learning rate off the loss curve:
a rate far too high makes the loss blow up (curve A), one too low makes it creep down
(curve B), one a little too high drops fast then stalls above the minimum (curve C),
and a good one falls steadily to a low value (curve D). The range test (Smith, 2017)
shows all of them in one run: train a copy of the model for ``num_steps`` steps while
the learning rate grows from ``start_lr`` to ``end_lr`` by a constant factor per step,
and plot the loss against the rate on a log axis. Where the loss falls fastest is a
good rate; where it turns up, the rate is too high.
"""

import copy
import math
from dataclasses import dataclass

import numpy as np

from soma.explain.diagnostics import batches, require_matplotlib
from soma.explain.report import format_number

__all__ = ["LRRangeTest", "lr_range_test"]


@dataclass
class LRRangeTest:
    """The sweep: ``lrs[i]`` was used for the step whose loss is ``losses[i]``."""

    lrs: list
    losses: list
    smoothed: list
    diverged: bool
    num_steps: int | None = None  # the steps planned (the sweep may stop early, on divergence)

    def _steepest(self):
        """Index of fastai's steepest-descent point on the smoothed curve.

        fastai's rule (``steep`` of ``Learner.lr_find``): drop the first tenth of the
        planned steps, where the moving average is still settling, then take the point
        where the smoothed loss falls fastest per unit of log learning rate,
        ``argmin_i (L_{i+1} − L_i) / (ln η_{i+1} − ln η_i)``.
        """
        skip = (self.num_steps or len(self.lrs)) // 10
        smoothed, lrs = np.asarray(self.smoothed[skip:]), np.asarray(self.lrs[skip:])
        if len(smoothed) < 2:
            return int(np.argmin(self.smoothed))
        slope = np.diff(smoothed) / np.diff(np.log(lrs))
        return skip + int(np.argmin(slope))

    @property
    def suggested_lr(self):
        """The rate where the smoothed loss falls fastest (fastai's steepest-descent suggestion)."""
        return float(self.lrs[self._steepest()])

    @property
    def min_loss_lr(self):
        return float(self.lrs[int(np.argmin(self.smoothed))])

    def __str__(self):
        lines = [
            f"Learning-rate range test: {len(self.lrs)} steps, lr {format_number(self.lrs[0], 3)} → "
            f"{format_number(self.lrs[-1], 3)}"
            + (" (stopped: the loss diverged)" if self.diverged else ""),
            f"  steepest descent at lr ≈ {format_number(self.suggested_lr, 3)} (a good rate, curve D)",
            f"  lowest loss at lr ≈ {format_number(self.min_loss_lr, 3)}; beyond it the rate is too high "
            "(curve C), and where the loss blows up, far too high (curve A)",
            f"  well below {format_number(self.suggested_lr / 10, 3)} the loss barely moves: too low (curve B)",
        ]
        return "\n".join(lines)

    def plot(self, path):
        """Save loss against learning rate (log axis), marking the suggested rate (needs matplotlib)."""
        self.figure().savefig(str(path))
        return str(path)

    def figure(self):
        """The plot as a matplotlib ``Figure``: both curves, the suggested point marked on the smoothed one."""
        Figure = require_matplotlib()
        figure = Figure(figsize=(7, 4))
        axes = figure.add_subplot()
        axes.plot(self.lrs, self.losses, alpha=0.4, label="loss")
        axes.plot(self.lrs, self.smoothed, label="smoothed loss")
        axes.axvline(self.suggested_lr, color="green", linestyle="--", linewidth=0.8)
        axes.plot(
            [self.suggested_lr],
            [self.smoothed[self._steepest()]],
            "o",
            color="green",
            label=f"steepest descent (suggested), lr ≈ {format_number(self.suggested_lr, 2)}",
        )
        axes.set(
            xscale="log", xlabel="learning rate", ylabel="loss", title="Learning-rate range test"
        )
        axes.legend(fontsize=8)
        figure.tight_layout()
        return figure


def lr_range_test(
    model,
    loss_fn,
    data,
    start_lr=1e-7,
    end_lr=10.0,
    num_steps=100,
    optimizer=None,
    smoothing=0.05,
    diverge_factor=4.0,
):
    """Train a copy of ``model`` with a learning rate growing exponentially; return the sweep.

    Args:
        model: the model (untouched: a deep copy is trained).
        loss_fn: ``loss_fn(output, targets)``.
        data: an ``(inputs, targets)`` pair or an iterable of pairs (e.g. a DataLoader).
        start_lr, end_lr: the first and last rates; step i uses start·(end/start)^(i/(num_steps−1)).
        num_steps: number of steps (and rates).
        optimizer: ``optimizer(parameters, lr)``; ``soma.optim.SGD`` by default.
        smoothing: weight of the newest loss in the exponential moving average.
        diverge_factor: stop once the smoothed loss exceeds this multiple of its minimum.
    """
    from soma.optim import SGD

    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    work = copy.deepcopy(model)
    parameters = [p for p in work.parameters() if p.requires_grad]
    opt = optimizer(parameters, start_lr) if optimizer else SGD(parameters, lr=start_lr)
    dtype = parameters[0]._array.dtype
    factor = (end_lr / start_lr) ** (1 / max(num_steps - 1, 1))
    stream = batches(data, dtype)
    result = LRRangeTest([], [], [], False, num_steps)
    with np.errstate(over="ignore", invalid="ignore"):  # the sweep is meant to reach divergence
        _sweep(
            work,
            loss_fn,
            opt,
            stream,
            start_lr,
            factor,
            num_steps,
            smoothing,
            diverge_factor,
            result,
        )
    if not result.lrs:
        raise RuntimeError(
            "lr_range_test: the loss was NaN/Inf from the first step; lower start_lr"
        )
    return result


def _sweep(
    work, loss_fn, opt, stream, start_lr, factor, num_steps, smoothing, diverge_factor, result
):
    average, best = 0.0, math.inf
    for i in range(num_steps):
        lr = start_lr * factor**i
        for group in opt.param_groups:
            group["lr"] = lr
        inputs, targets = next(stream)
        opt.zero_grad()
        loss = loss_fn(work(inputs), targets)
        value = float(loss._array)
        if not math.isfinite(value):
            result.diverged = True
            break
        loss.backward()
        opt.step()
        average = (
            smoothing * value + (1 - smoothing) * average
        )  # bias-corrected like Adam's moments
        unbiased = average / (1 - (1 - smoothing) ** (i + 1))
        result.lrs.append(lr)
        result.losses.append(value)
        result.smoothed.append(unbiased)
        best = min(best, unbiased)
        if unbiased > diverge_factor * best and i > 5:
            result.diverged = True
            break

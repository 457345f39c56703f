"""Weight averaging: Stochastic Weight Averaging (SWA) and exponential moving averages (EMA), as PyTorch's
``torch.optim.swa_utils``.

An :class:`AveragedModel` keeps a copy of a model whose parameters are a running average of the model's
parameters at the times ``update_parameters(model)`` is called. With ``n`` models averaged so far:

.. code-block:: text

    SWA (the default):  W̄ ← W̄ + (W - W̄) / (n + 1)      (the equal-weight mean of the n + 1 snapshots)
    EMA (decay β):      W̄ ← β·W̄ + (1 - β)·W

The first call copies the model (``n = 0``). BatchNorm running statistics are not averaged (unless
``use_buffers=True``); they are copied, or recomputed for the averaged weights by :func:`update_bn`.
:class:`SWALR` anneals each group's learning rate to a constant ``swa_lr`` for the averaging phase.

Example:
    >>> swa_model = AveragedModel(model)
    >>> swa_scheduler = SWALR(optimizer, swa_lr=0.05)
    >>> for epoch in range(300):
    ...     train_one_epoch(model, optimizer)
    ...     if epoch > 160:
    ...         swa_model.update_parameters(model); swa_scheduler.step()
    >>> update_bn(loader, swa_model)
"""

import itertools
import math
import warnings
from copy import deepcopy
from typing import Any

from soma.autograd import no_grad
from soma.nn.modules.module import Module
from soma.nn.normalization import _BatchNorm
from soma.optim._moments import as_float32, lerp_
from soma.optim.lr_scheduler import LRScheduler
from soma.tensor import Tensor

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerp_all(averaged, current, weight):
    """``a ← a + w·(x - a)`` in place for each pair, rounded as PyTorch's ``_foreach_lerp_``."""
    for a, x in zip(averaged, current, strict=True):
        lerp_(a._array, x._array.astype(a._array.dtype, copy=False), weight)


def get_ema_multi_avg_fn(decay=0.999):
    """The in-place EMA update of lists of parameters, ``W̄ ← β·W̄ + (1 - β)·W`` (a ``multi_avg_fn``)."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex():
            _lerp_all(ema_param_list, current_param_list, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """The in-place SWA update of lists of parameters, ``W̄ ← W̄ + (W - W̄) / (n + 1)`` (a ``multi_avg_fn``)."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if averaged_param_list[0].is_floating_point() or averaged_param_list[0].is_complex():
            # PyTorch's weight 1 / (n + 1) is a float32 tensor when n is one
            weight = 1 / (num_averaged + 1)
            weight = as_float32(weight.item()) if isinstance(weight, Tensor) else weight
            _lerp_all(averaged_param_list, current_param_list, weight)
        else:
            for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
                averaged.copy_(averaged + (current - averaged) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The EMA of one parameter, ``β·W̄ + (1 - β)·W``, returned (an ``avg_fn``)."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The SWA average of one parameter, ``W̄ + (W - W̄) / (n + 1)``, returned (an ``avg_fn``)."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    r"""A copy of ``model`` whose parameters are a running average of ``model``'s (SWA or EMA).

    Args:
        model: the module to average; it is deep-copied into ``self.module``.
        device: where the copy lives (``None``: where ``model`` is).
        avg_fn: ``avg_fn(averaged, current, n) -> new averaged``, called per parameter.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, n)``, updating the lists in place
            (e.g. :func:`get_ema_multi_avg_fn`). Neither given: the equal-weight SWA average.
        use_buffers: average the buffers too (else they are copied from ``model`` at each update).

    ``n_averaged`` is an int64 buffer (in the state dict, beside ``module.*``) counting the updates;
    ``forward`` calls ``self.module``. The averaging functions are not saved in the state dict.

    Shape:
        - Input and output: those of ``model``.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        from soma import int64, tensor

        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _pairs(self, model):
        """(averaged, model's) tensors, detached: parameters (and buffers under ``use_buffers``), in order."""
        if self.use_buffers:
            ours = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            ours, theirs = self.parameters(), model.parameters()
        return [(a.detach(), p.detach()) for a, p in zip(ours, theirs, strict=False)]

    @no_grad()
    def update_parameters(self, model) -> None:
        """Average ``model``'s current parameters into this copy (the first call copies them)."""
        pairs = self._pairs(model)
        first = int(self.n_averaged.item()) == 0
        if first:
            for averaged, current in pairs:
                averaged.copy_(current)
        else:
            n = self.n_averaged
            if self.avg_fn is not None:
                for averaged, current in pairs:
                    averaged.copy_(self.avg_fn(averaged, current, n))
            elif self.multi_avg_fn is not None:
                for group in _by_dtype(pairs):
                    self.multi_avg_fn([a for a, _ in group], [c for _, c in group], n)
            else:  # PyTorch's per-parameter path on the CPU
                swa = get_swa_avg_fn()
                for averaged, current in pairs:
                    averaged.copy_(swa(averaged, current, n))
        if not self.use_buffers:
            for ours, theirs in zip(self.module.buffers(), model.buffers(), strict=True):
                ours.detach().copy_(theirs.detach())
        self.n_averaged += 1


def _by_dtype(pairs):
    """The pairs grouped by the averaged tensor's dtype, each group in order (PyTorch groups by device and dtype)."""
    groups: dict[Any, list] = {}
    for averaged, current in pairs:
        groups.setdefault(averaged.dtype, []).append((averaged, current))
    return list(groups.values())


@no_grad()
def update_bn(loader, model, device=None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` by one pass over ``loader``.

    Each BatchNorm layer's ``running_mean``/``running_var`` are reset and, with ``momentum=None``
    for the pass, become the cumulative average of the batch statistics (so every batch weighs the
    same). A batch is a tensor or a list/tuple whose first item is the input. The model's train/eval
    mode and the layers' momenta are restored afterwards.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneal each group's learning rate from its current value to ``swa_lr`` over ``anneal_epochs`` steps,
    then hold it there (PyTorch's recursion, so it composes with other changes to ``lr``):

    .. code-block:: text

        α(t) = (1 - cos(πt)) / 2  ("cos")   or   t  ("linear"),   t = clamp(step / anneal_epochs, 0, 1)
        η₀'  = (η - α(t_prev)·η_swa) / (1 - α(t_prev))     (the start the current η implies; η_swa if α = 1)
        η    ← α(t)·η_swa + (1 - α(t))·η₀'

    Args:
        optimizer: the wrapped optimizer; each group gets a ``"swa_lr"`` entry.
        swa_lr: the final rate, one for all groups or a list with one per group.
        anneal_epochs: the number of annealing steps, an int ≥ 0 (10).
        anneal_strategy: ``"cos"`` or ``"linear"`` ("cos").
        last_epoch: the index of the last epoch (-1).
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1) -> None:
        if isinstance(swa_lr, (list, tuple)):
            if len(swa_lr) != len(optimizer.param_groups):
                raise ValueError(
                    "swa_lr must have the same length as optimizer.param_groups. "
                    f"swa_lr has {len(swa_lr)} values, param_groups has {len(optimizer.param_groups)}.")
            swa_lrs = list(swa_lr)
        else:
            swa_lrs = [swa_lr] * len(optimizer.param_groups)
        for value, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        if not getattr(self, "_get_lr_called_within_step", False):
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha) for group in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(groups, prev_lrs, strict=True)]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._set_anneal_func(self._anneal_strategy)

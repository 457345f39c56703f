"""``soma.amp``: PyTorch's mixed-precision API (``autocast``, ``GradScaler``), so training scripts that use it run.

soma computes every op in its inputs' dtype: it has no mixed-precision kernels, so ``autocast`` changes no
dtype (it warns once when asked to, where PyTorch would compute matrix products in float16/bfloat16). On a
device soma lacks (``"cuda"`` here) both are disabled with PyTorch's warning, which is what PyTorch does on a
machine without a GPU. ``GradScaler`` is PyTorch's algorithm: the loss is multiplied by a scale S, the
gradients divided by S before the step, a step whose gradients hold Inf or NaN is skipped and S halved
(``backoff_factor``), and S doubles (``growth_factor``) after ``growth_interval`` clean steps. It works on
float32 as on float16 gradients.
"""

import functools
import warnings

import numpy as np

from soma.autograd.function import no_grad

__all__ = ["autocast", "GradScaler", "is_autocast_available"]

_warned = set()


def _device_available(device_type):
    from soma import cuda

    return device_type in ("cpu", "mps") or (device_type == "cuda" and cuda.is_available())


def is_autocast_available(device_type):
    return _device_available(device_type)


class autocast:
    """``with soma.autocast("cpu", dtype=soma.bfloat16):`` — accepted, a no-op (see the module docstring);
    usable as a decorator too."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        if self._enabled and not _device_available(device_type):
            warnings.warn(f"{device_type} is not available. Disabling autocast.", UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled and "autocast" not in _warned:
            _warned.add("autocast")
            warnings.warn("soma.autocast: soma has no mixed-precision kernels; ops keep computing in their inputs' "
                          "dtypes", UserWarning, stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return run


class GradScaler:
    """Loss scaling against float16 underflow, as ``torch.amp.GradScaler`` (see the module docstring)."""

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        if enabled and not _device_available(device):
            warnings.warn(f"GradScaler is enabled, but {device} is not available. Disabling.", UserWarning,
                          stacklevel=2)
            enabled = False
        self._enabled = enabled
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self._scale, self._growth_factor, self._backoff_factor = float(init_scale), growth_factor, backoff_factor
        self._growth_interval, self._growth_tracker = int(growth_interval), 0
        self._per_optimizer = {}  # id(optimizer) -> {"unscaled": bool, "found_inf": bool}

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """``outputs`` times the scale (a tensor, or tensors in lists/tuples)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def _record(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"unscaled": False, "found_inf": False, "stepped": False})

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale, in place, and note whether any is Inf or NaN."""
        if not self._enabled:
            return
        record = self._record(optimizer)
        if record["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if record["stepped"]:
            raise RuntimeError("unscale_() is being called after step().")
        inverse, found = 1.0 / self._scale, False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        grad = param.grad._array
                        grad *= np.asarray(inverse, grad.dtype)
                        found = found or not bool(np.isfinite(grad).all())
        record.update(unscaled=True, found_inf=found)

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` with the gradients unscaled, skipped if any of them is Inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        record = self._record(optimizer)
        if record["stepped"]:
            raise RuntimeError("step() has already been called since the last update().")
        if not record["unscaled"]:
            self.unscale_(optimizer)
        record["stepped"] = True
        return None if record["found_inf"] else optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Back off after a skipped step, grow after ``growth_interval`` clean ones (or set ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        elif any(r["found_inf"] for r in self._per_optimizer.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        elif self._per_optimizer:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._per_optimizer = {}

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor, self._backoff_factor = state_dict["growth_factor"], state_dict["backoff_factor"]
        self._growth_interval, self._growth_tracker = state_dict["growth_interval"], state_dict["_growth_tracker"]



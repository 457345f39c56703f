"""The original ``nn.utils.weight_norm`` / ``remove_weight_norm`` (a forward pre-hook; PyTorch deprecates it for
:func:`soma.nn.utils.parametrizations.weight_norm`, and so does soma, with the same FutureWarning).

w = g · v / ‖v‖ (Salimans & Kingma), the norm over every axis but ``dim``: the module's ``weight`` parameter
is replaced by ``weight_g`` and ``weight_v``, and ``weight`` becomes a plain attribute recomputed before each
forward. The state_dict keys are PyTorch's (``weight_g``, ``weight_v``), so checkpoints load either way.
"""

import warnings

from soma.nn.module import Parameter
from soma.nn.utils.parametrizations import _norm_except_dim

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The pre-hook: recompute ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`soma.nn.utils.weight_norm` is deprecated in favor of "
                      "`soma.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight.detach(), fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Split ``module.<name>`` into a length ``<name>_g`` and a direction ``<name>_v`` (w = g · v / ‖v‖).

    ``dim`` keeps its own norms (0: one per output unit); ``None``: one norm for the whole tensor.

    Example::

        >>> m = nn.utils.weight_norm(nn.Linear(20, 40))
        >>> m.weight_g.shape, m.weight_v.shape
        ((40, 1), (40, 20))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_hook_norm(module, name, kind, label):
    """Undo the pre-hook normalization ``kind`` (WeightNorm, SpectralNorm) of ``module.<name>``."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{label} of '{name}' not found in {module}")


def remove_weight_norm(module, name="weight"):
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``<name>``."""
    return remove_hook_norm(module, name, WeightNorm, "weight_norm")

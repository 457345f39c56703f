"""The original ``nn.utils.spectral_norm`` / ``remove_spectral_norm`` (a forward pre-hook; PyTorch recommends
:func:`soma.nn.utils.parametrizations.spectral_norm` instead).

W ↦ W / σ(W) (Miyato et al.), σ the largest singular value of W as a matrix (rows along ``dim``), estimated
by power iteration on the buffers ``<name>_u`` and ``<name>_v``: each training forward runs
``n_power_iterations`` steps v ← normalize(Wᵀ u), u ← normalize(W v) (this order, PyTorch's old one), then
σ = uᵀ W v with u, v constants of the backward. The weight's parameter becomes ``<name>_orig``; the
state_dict keys are PyTorch's (``weight_orig``, ``weight_u``, ``weight_v``).
"""


from soma.nn._utils import beside
from soma.nn.utils.parametrizations import _normalize
from soma.nn.utils.weight_norm import remove_hook_norm
from soma.random import generator
from soma.tensor import Tensor

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The pre-hook: ``module.<name> = <name>_orig / σ``, σ from (and, in training, improving) u and v."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            m = matrix._array
            for _ in range(self.n_power_iterations):
                v._array[...] = _normalize(m.T @ u._array, self.eps)
                u._array[...] = _normalize(m @ v._array, self.eps)
        u, v = Tensor._make(u._array.copy(), False), Tensor._make(v._array.copy(), False)
        sigma = (u * (matrix @ v)).sum()
        return weight / sigma

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        h, w = fn.reshape_weight_to_matrix(weight).shape
        rng = generator()  # drawn on the host from soma's generator, kept beside the weight
        dtype = weight._array.dtype
        u = beside(weight, _normalize(rng.standard_normal(h), eps).astype(dtype))
        v = beside(weight, _normalize(rng.standard_normal(w), eps).astype(dtype))
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        from soma.autograd import no_grad
        from soma.nn.module import Parameter

        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Normalize ``module.<name>`` by its largest singular value before each forward (see the module doc).

    ``dim``: the axis of the matrix's rows, 0 (1 for ConvTranspose layers) by default.

    Example::

        >>> m = nn.utils.spectral_norm(nn.Linear(20, 40))
        >>> sorted(m.state_dict())
        ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Fold the normalization back into one plain parameter ``<name>`` (W / σ with the current u, v)."""
    return remove_hook_norm(module, name, SpectralNorm, "spectral_norm")



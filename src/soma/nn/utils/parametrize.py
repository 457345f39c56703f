"""``nn.utils.parametrize``: make a module's tensor a function of other parameters.

After ``register_parametrization(module, "weight", P)``, reading ``module.weight`` computes
``P(original)`` afresh each time, so gradients flow to ``original`` (stored as
``module.parametrizations.weight.original``, or ``original0``, ``original1``, ... when
``P.right_inverse`` returns several tensors, as weight normalization's (g, v) does).
Assigning ``module.weight = w`` stores ``P.right_inverse(w)`` into the originals. The
``state_dict`` keys are PyTorch's (``parametrizations.weight.original``), so checkpoints
move between the two.

PyTorch swaps the module's class for a subclass with a ``weight`` property; soma does the
same, so ``isinstance(module, nn.Linear)`` still holds. Within one ``forward`` of the module
(and inside ``with parametrize.cached():``) each parametrized tensor is computed once, however
often the layer reads it: a layer that reads ``self.weight`` twice still runs spectral
normalization's power iteration once per call, as PyTorch's layers do.
"""

import contextlib

from soma.autograd.function import mark_dirty, no_grad
from soma.nn.container import ModuleDict, ModuleList
from soma.nn.module import Parameter
from soma.tensor import Tensor

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "type_before_parametrizations",
           "cached", "ParametrizationList"]

_cache = {"depth": 0, "values": {}}


@contextlib.contextmanager
def cached():
    """Compute each parametrized tensor once inside the block (e.g. for several forwards sharing it)."""
    _cache["depth"] += 1
    try:
        yield
    finally:
        _cache["depth"] -= 1
        if not _cache["depth"]:
            _cache["values"].clear()


def _copy_into(target, value):
    target._array[...] = value._array if isinstance(value, Tensor) else value
    mark_dirty(target)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the ``original`` tensor(s) they act on."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        requires_grad = original.requires_grad
        with no_grad():
            new = original
            for module in reversed(list(self)):
                inverse = getattr(module, "right_inverse", None)
                new = inverse(new) if inverse is not None else new
        if isinstance(new, Tensor):
            if new is not original:
                if tuple(new.shape) != tuple(original.shape) or new.dtype != original.dtype:
                    raise ValueError("right_inverse must keep the shape and dtype of the original, got "
                                     f"{tuple(new.shape)} {new.dtype} for {tuple(original.shape)} {original.dtype}")
                _copy_into(original, new)
            self.is_tensor, self.ntensors = True, 1
            self._register("original", original, requires_grad)
        else:
            new = tuple(new)
            self.is_tensor, self.ntensors = False, len(new)
            for index, part in enumerate(new):
                self._register(f"original{index}", Tensor._make(part._array.copy(), False), requires_grad)
        if not unsafe:
            with no_grad():
                value = self()
            if tuple(value.shape) != tuple(original.shape) or value.dtype != original.dtype:
                raise ValueError(f"a parametrization must keep the shape and dtype of {tuple(original.shape)} "
                                 f"{original.dtype}; it gives {tuple(value.shape)} {value.dtype} (pass unsafe=True)")

    def _register(self, name, tensor, requires_grad):
        setattr(self, name, tensor if isinstance(tensor, Parameter) else Parameter(tensor, requires_grad))

    def originals(self):
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def right_inverse(self, value):
        """Store ``value`` as the parametrized tensor: the originals become the inverse image of ``value``."""
        with no_grad():
            for module in reversed(list(self)):
                inverse = getattr(module, "right_inverse", None)
                if inverse is None:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse")
                value = inverse(value)
            parts = (value,) if self.is_tensor else tuple(value)
            for original, part in zip(self.originals(), parts):
                _copy_into(original, part)

    def forward(self):
        first, *rest = list(self)
        value = first(*self.originals())
        for module in rest:
            value = module(value)
        return value


def _property(name):
    def get(self):
        if not _cache["depth"]:
            return self.parametrizations[name]()
        key = (id(self), name)
        value = _cache["values"].get(key)
        if value is None:
            value = _cache["values"][key] = self.parametrizations[name]()
        return value

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(get, set_)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Replace ``module.<tensor_name>`` by ``parametrization(original)``; further calls stack more.

    Args:
        module: the module holding the parameter (or buffer).
        tensor_name: e.g. ``"weight"``.
        parametrization: a Module; its ``forward`` maps the original(s) to the tensor, and an
            optional ``right_inverse`` maps a tensor back to the original(s).
        unsafe: skip the check that the parametrization keeps shape and dtype.
    """
    if is_parametrized(module, tensor_name):
        entry = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                value = parametrization(entry())
            if tuple(value.shape) != tuple(entry().shape):
                raise ValueError(f"register_parametrization: the new parametrization changes the shape of "
                                 f"{tensor_name!r} (pass unsafe=True)")
        entry.append(parametrization)
        return module
    original = getattr(module, tensor_name, None)
    if not isinstance(original, Tensor):
        raise ValueError(f"register_parametrization: module {type(module).__name__} has no parameter or buffer "
                         f"with name {tensor_name!r}")
    if tensor_name in module._buffers:
        raise NotImplementedError("register_parametrization: parametrizing a buffer is not supported by soma")
    delattr(module, tensor_name)
    entry = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not is_parametrized(module):
        module.parametrizations = ModuleDict()
        cls = type(module)

        def forward(self, *args, **kwargs):
            with cached():
                return cls.forward(self, *args, **kwargs)

        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,),
                                {"_class_before_parametrizations": cls, "forward": forward})
    module.parametrizations[tensor_name] = entry
    setattr(type(module), tensor_name, _property(tensor_name))
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has parametrizations (on ``tensor_name``, when given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return tensor_name is None or tensor_name in parametrizations


def type_before_parametrizations(module):
    """The module's class before any parametrization (parametrizing swaps in a subclass)."""
    return getattr(type(module), "_class_before_parametrizations", type(module))


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo :func:`register_parametrization`: ``module.<tensor_name>`` is a plain Parameter again, holding
    the parametrized value (``leave_parametrized=True``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: module {type(module).__name__} has no parametrization on "
                         f"{tensor_name!r}")
    entry = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        requires_grad = entry.originals()[0].requires_grad
        if entry.is_tensor:
            original = entry.original
            if tuple(original.shape) == tuple(value.shape) and original.dtype == value.dtype:
                _copy_into(original, value)
            else:
                original = Parameter(value.detach(), requires_grad)
        else:
            original = Parameter(value.detach(), requires_grad)
    else:
        if not entry.is_tensor:
            raise ValueError("remove_parametrizations: leave_parametrized=False needs a single original tensor")
        original = entry.original
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    setattr(module, tensor_name, original if isinstance(original, Parameter) else Parameter(original))
    if not len(module.parametrizations):
        delattr(module, "parametrizations")
        module.__class__ = type_before_parametrizations(module)
    return module

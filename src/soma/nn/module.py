"""``Module`` and ``Parameter``: the building blocks every layer and model is made of.

A module owns parameters (tensors an optimizer trains), buffers (tensors it keeps
but does not train, like BatchNorm's running mean) and sub-modules, registered
simply by assigning them as attributes. From that registry come ``parameters()``,
``state_dict()`` with PyTorch's dotted names (``layers.0.weight``), ``train()``/
``eval()``, ``to(dtype)`` and ``repr``.
"""

import functools
import inspect
from collections import OrderedDict, namedtuple
from typing import Any

import numpy as np

from soma import backend
from soma._device import resolve
from soma.autograd.function import mark_dirty, no_grad
from soma.backend import as_array
from soma.tensor import Tensor

__all__ = ["Module", "Parameter", "Buffer", "empty_parameter"]


class Parameter(Tensor):
    """A tensor that a ``Module`` registers as trainable (``requires_grad=True`` by default).

    Example::

        >>> self.weight = nn.Parameter(soma.empty(out_features, in_features))
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, np.float32)
        array = data._array if isinstance(data, Tensor) else as_array(data)
        if not isinstance(data, Tensor) and array.dtype == np.float64 and not backend.is_array(data):
            array = array.astype(np.float32)
        param = Tensor._make.__func__(cls, array, False)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad=True):
        pass  # everything happens in __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def empty_parameter(shape, dtype=None, owner="layer", device=None, fill=None):
    """An uninitialized floating-point Parameter (float32 unless ``dtype``) for a layer's
    ``__init__``; its ``reset_parameters()`` then fills it (or ``fill``, a constant, now).

    ``device`` is PyTorch's factory keyword, checked by :func:`soma._device.resolve` (CPU works;
    a device this machine lacks raises there). A negative size is PyTorch's RuntimeError.
    """
    resolve(device, owner)
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"{owner} parameters must be floating point, got dtype {dtype}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(size < 0 for size in shape):
        raise RuntimeError(f"{owner}: trying to create a parameter with a negative dimension: {list(shape)}")
    return Parameter(np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype))


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a module attribute.

    ``persistent=False`` keeps the buffer out of ``state_dict()`` (and so out of what
    ``load_state_dict`` expects), as ``register_buffer(name, tensor, persistent=False)`` does.
    The module stores a plain ``Tensor`` sharing the buffer's memory, as PyTorch does.
    """

    __slots__ = ("persistent",)

    def __new__(cls, data, persistent=True):
        array = data._array if isinstance(data, Tensor) else as_array(data)
        buffer = Tensor._make.__func__(cls, array, False)
        buffer.persistent = bool(persistent)
        return buffer

    def __init__(self, data, persistent=True):
        pass


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class _RemovableHandle:
    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


class Module:
    """Base class of every layer and model.

    Subclasses create their parameters and sub-modules in ``__init__`` and compute in
    ``forward``; calling the module runs ``forward`` and the forward hooks.

    Example::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.Linear(784, 128)
                self.out = nn.Linear(128, 10)

            def forward(self, x):
                return self.out(F.relu(self.hidden(x)))
    """

    training: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A layer whose ``__init__`` takes ``device=`` (PyTorch's factory keyword) ends its construction on that
        device: its parameters and buffers, made on the host, move there (``nn.Linear(3, 4, device=d)``)."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_places_device", False):
            return
        parameters = inspect.signature(init).parameters
        if "device" not in parameters:
            return
        position = list(parameters).index("device")

        @functools.wraps(init)
        def placed(self, *args, **kw):
            init(self, *args, **kw)
            device = kw.get("device", args[position - 1] if len(args) >= position else None)
            if device is not None:
                self._move(device, f"{type(self).__name__}.__init__")

        placed._places_device = True  # type: ignore[attr-defined]
        setattr(cls, "__init__", placed)  # noqa: B010  (a plain assignment reads to mypy as a method overwrite)

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args, **kwargs):
        if not (self._forward_hooks or self._forward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ---------------------------------------------------------------- registration
    # Parameters, buffers and modules live in their registries *and* in __dict__, so
    # that reading self.weight in forward is a plain attribute lookup.
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} before Module.__init__() call"
                )
            object.__setattr__(self, name, value)
            return
        for registry in (d["_parameters"], d["_buffers"], d["_modules"]):
            if name in registry and not _fits(registry, d, value):
                del registry[name]
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            d["_modules"][name] = value
            d[name] = value
        elif isinstance(value, Buffer):
            self.register_buffer(name, Tensor._make(value._array, False), value.persistent)
        elif name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (tensor or None expected)")
            d["_buffers"][name] = value
            d[name] = value
        elif name in d["_parameters"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected)"
                )
            d["_parameters"][name] = None
            d[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):  # only reached when normal lookup fails
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for registry in (d["_parameters"], d["_buffers"], d["_modules"]):
            registry.pop(name, None)
        d["_non_persistent_buffers"].discard(name)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r}")
        _check_name(self, name)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} as buffer {name!r}")
        _check_name(self, name)
        self._buffers[name] = tensor
        self.__dict__[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(self, name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target):
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r}")
            module = module._modules[part]
        return module

    # ------------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and value in seen):
                    continue
                seen.add(value)
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ----------------------------------------------------------------- state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Every parameter and persistent buffer by dotted name (sharing memory, detached)."""
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers, in place, by name.

        Shapes must match. With ``strict=True`` (default) missing and unexpected keys are
        an error too; with ``strict=False`` they are returned as ``(missing, unexpected)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._array if isinstance(value, Tensor) else as_array(value)
            if hasattr(target, "materialize"):  # a lazy layer's tensor takes the checkpoint's shape
                target.materialize(array.shape)
            if array.shape != target._array.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}."
                )
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(map(repr, missing)) + ".")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            )
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    value = value._array if isinstance(value, Tensor) else as_array(value)
                    target._array[...] = backend.of(target._array).transfer(value)  # across devices, as PyTorch
                    mark_dirty(target)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------------ modes
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad._array[...] = 0

    def apply(self, fn):
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``: move and cast in place, return self.

        Floating-point parameters and buffers take a floating ``dtype``; integer buffers
        (such as BatchNorm's ``num_batches_tracked``) keep theirs, as in PyTorch.
        """
        from soma.tensor import _to_arguments

        target, dtype = _to_arguments("Module.to", args, kwargs)
        if target is not None:
            self._move(target, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        if dtype.kind not in "fc":
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
            )
        return self._cast_floating(dtype)

    def _move(self, target, op):
        """Every parameter, buffer and gradient onto the device ``target`` (in place, as PyTorch's Module.to)."""
        from soma._device import place

        resolve(target, op)
        for tensor in (*self.parameters(), *self.buffers()):
            tensor._array = place(tensor._array, target, op)
            if tensor.grad is not None:
                tensor.grad._array = place(tensor.grad._array, target, op)
        return self

    def _cast_floating(self, dtype):
        for tensor in (*self.parameters(), *self.buffers()):
            if tensor._array.dtype.kind == "f":
                tensor._array = tensor._array.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad._array = tensor.grad._array.astype(dtype)
        return self

    def float(self):
        return self._cast_floating(np.dtype(np.float32))

    def double(self):
        return self._cast_floating(np.dtype(np.float64))

    def half(self):
        return self._cast_floating(np.dtype(np.float16))

    def type(self, dst_type):
        return self._cast_floating(np.dtype(dst_type))

    def cpu(self):
        return self._move("cpu", f"{type(self).__name__}.cpu")

    def cuda(self, device=None):
        return self._move("cuda" if device is None else device, f"{type(self).__name__}.cuda")

    # ------------------------------------------------------------------------ hooks
    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after forward; it may return a new output."""
        key = object()
        self._forward_hooks[key] = hook
        return _RemovableHandle(self._forward_hooks, key)

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before forward; it may return new inputs."""
        key = object()
        self._forward_pre_hooks[key] = hook
        return _RemovableHandle(self._forward_pre_hooks, key)

    # ------------------------------------------------------------------------- repr
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()))

    __hash__ = object.__hash__


def _fits(registry, d, value):
    """Whether re-assigning a registered name keeps it in the same registry."""
    if registry is d["_parameters"]:
        return isinstance(value, Parameter) or value is None
    if registry is d["_modules"]:
        return isinstance(value, Module)
    return isinstance(value, Tensor) and not isinstance(value, Parameter) or value is None


def _check_name(module, name):
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(f"module attribute name must be a non-empty string without '.', got {name!r}")

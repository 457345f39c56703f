"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``."""

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from soma.nn.module import Module, Parameter
from soma.tensor import Tensor

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: modules kept in order, indexed like a list."""

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(*self._sliced(index))
        return list(self._modules.values())[index]

    def __setitem__(self, index, module):
        setattr(self, list(self._modules)[index], module)

    def __delitem__(self, index):
        keys = list(self._modules)[index] if isinstance(index, slice) else [list(self._modules)[index]]
        for key in keys:
            delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied one after another: y = fₙ(... f₂(f₁(x)))

    Shape:
        - Input: what the first module takes.
        - Output: what the last module returns.

    Example::

        >>> model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
        >>> model.state_dict().keys()   # '0.weight', '0.bias', '2.weight', '2.bias'
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            self.extend(args)

    def _sliced(self, index):  # a slice keeps the names, as PyTorch's does
        return (OrderedDict(list(self._modules.items())[index]),)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (names '0', '1', ...).

    Shape:
        - Input/Output: none: a container without ``forward``; its modules' shapes apply where they are called.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _sliced(self, index):
        return (list(self._modules.values())[index],)

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        for key in list(self._modules):
            delattr(self, key)
        self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList is a container; call its modules in your forward()")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys.

    Shape:
        - Input/Output: none: a container without ``forward``; its modules' shapes apply where they are called.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self.add_module(key, module)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict is a container; call its modules in your forward()")


class ParameterList(Module):
    """A list of parameters registered under '0', '1', ...

    Shape:
        - Input/Output: none: a container without ``forward``; its modules' shapes apply where they are called.
    """

    def __init__(self, values: Iterable[Parameter] | None = None) -> None:
        super().__init__()
        for value in values or ():
            self.append(value)

    def __getitem__(self, index):
        return list(self._parameters.values())[index]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        if not isinstance(value, Parameter):
            value = Parameter(value)
        self.register_parameter(str(len(self)), value)
        return self

    def extra_repr(self):
        return "\n".join(f"({i}): Parameter of shape {tuple(p.shape)}" for i, p in enumerate(self))


class _MissingKey(KeyError, AttributeError):
    """A key a ParameterDict does not hold: PyTorch's AttributeError, and the KeyError a dict raises."""


class ParameterDict(Module):
    """An ordered dict of parameters registered under their keys (the ``state_dict`` names).

    A tensor stored in it becomes a ``Parameter`` (requiring grad, sharing the tensor's data); a
    Parameter is kept as it is; any other value (``None``, a number) is kept as a plain attribute,
    listed in the dict but not among the parameters, as PyTorch's. Updating from a plain ``dict``
    inserts its keys sorted, from an ``OrderedDict``, a ``ParameterDict`` or a sequence of pairs in
    their order.

    Shape:
        - Input/Output: none: a container without ``forward``; its parameters' shapes apply where they are used.

    Example::

        >>> params = nn.ParameterDict({"left": nn.Parameter(soma.randn(5, 10))})
        >>> params["right"] = soma.randn(5, 10)      # becomes a Parameter
        >>> list(params.state_dict())
        ['left', 'right']
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key(key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: a key must be a string, got {key!r} of type {type(key).__name__!r}")
        return key

    def __getitem__(self, key):
        if self._key(key) not in self._keys:
            raise _MissingKey(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, self._key(key), value)  # registers a Parameter, checks the name
        self._keys[key] = None

    def __delitem__(self, key):
        if self._key(key) not in self._keys:
            raise _MissingKey(key)
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")

    def keys(self):
        return self._keys.keys()

    def values(self):
        return (self[key] for key in self._keys)

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """The last (key, value) pair inserted, removed."""
        if not self._keys:
            raise _MissingKey("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        """A new ParameterDict holding the same Parameters (not copies of them)."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with every key set to ``default`` (an instance method, as PyTorch's)."""
        return ParameterDict((key, default) for key in keys)

    def update(self, values):
        if not isinstance(values, Iterable):
            raise TypeError(f"ParameterDict.update should be called with an iterable of key/value pairs, but got "
                            f"{type(values).__name__}")
        if isinstance(values, (OrderedDict, ParameterDict)):
            pairs = list(values.items())
        elif isinstance(values, Mapping):
            pairs = sorted(values.items())  # PyTorch sorts a plain mapping's keys
        else:
            pairs = list(values)
            for j, pair in enumerate(pairs):
                if not isinstance(pair, Iterable):
                    raise TypeError(f"ParameterDict update sequence element #{j} should be Iterable; is "
                                    f"{type(pair).__name__}")
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length {len(pair)}; "
                                     "2 is required")
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        lines = []
        for key, value in self.items():
            if isinstance(value, Tensor):
                size = "x".join(str(n) for n in value.shape)
                device = f" ({value.device})" if value.device.type == "cuda" else ""
                kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
                lines.append(f"  ({key}): {kind} containing: [{value.type()} of size {size}{device}]")
            else:
                lines.append(f"  ({key}): Object of type: {type(value).__name__}")
        return "\n".join(lines)

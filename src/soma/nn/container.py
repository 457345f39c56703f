"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``."""

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from soma.nn.module import Module, Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList"]


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

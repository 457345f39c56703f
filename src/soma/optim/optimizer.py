"""``Optimizer``: the base of every optimizer: parameter groups, per-parameter state, state_dict.

Gradient descent (notes 002, 004): after ``loss.backward()`` each parameter holds
∂E/∂w in ``.grad``, and ``step()`` moves it, ``w ← w - η·∂E/∂w`` in the plainest
form. Batch, stochastic and mini-batch gradient descent are the same optimizer fed
different batch sizes. Updates are done in place on the parameters' arrays, under no
graph.

Layout of ``state_dict()`` (PyTorch's): ``{"state": {index: {name: value}},
"param_groups": [{...hyper-parameters..., "params": [index, ...]}]}`` where indices
count the parameters across groups in order.
"""

import numbers
from collections import defaultdict
from typing import Any

import numpy as np

from soma.nn.common_types import LossClosure, ParamsT
from soma.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def check_range(name, value, low=0.0, high=None, low_open=False, high_open=True, owner=""):
    """Raise a ValueError naming the optimizer when a hyper-parameter is out of range.

    A hyper-parameter may be a number or a 1-element tensor (PyTorch accepts ``lr=torch.tensor(0.1)``);
    anything else is a TypeError.
    """
    if isinstance(value, Tensor):
        if value._array.size != 1:
            raise ValueError(f"{owner}: Tensor {name} must be 1-element, got shape {tuple(value.shape)}")
        value = value._array.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number or a 1-element Tensor, got {type(value).__name__}")
    bad = value < low or (low_open and value == low)
    if high is not None:
        bad = bad or value > high or (high_open and value == high)
    if bad:
        interval = ("(" if low_open else "[") + f"{low}, " + (
            f"{high}" + (")" if high_open else "]") if high is not None else "∞)"
        )
        raise ValueError(f"{owner}: invalid {name} {value!r}: expected a value in {interval}")


class Optimizer:
    """Base class: holds ``param_groups`` (list of dicts) and ``state`` (dict keyed by parameter).

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) each with a
            ``"params"`` entry and optional per-group hyper-parameters.
        defaults: the hyper-parameters groups do not set.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params argument given to the optimizer should be an iterable "
                "of Tensors or dicts, but got a Tensor"
            )
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: params argument given to the optimizer should be an iterable of "
                f"Tensors or dicts, but got {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters (with its own hyper-parameters) to optimize."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:
            raise KeyError(f"{type(self).__name__}: a parameter group must have a 'params' entry, got keys "
                           f"{sorted(group)}")
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]) or len(
            {id(p) for p in group["params"]}
        ) != len(group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (``None`` by default, else zeros in place)."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none:
                    param.grad = None
                elif param.grad is not None:
                    param.grad._array[...] = 0

    def step(self, closure: LossClosure | None = None) -> Any:
        raise NotImplementedError

    def _closure_loss(self, closure):
        if closure is None:
            return None
        from soma.autograd.function import enable_grad

        with enable_grad():
            return closure()

    # --------------------------------------------------------------- state dict
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` (PyTorch's layout)."""
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for param in group["params"]:
                index = index_of.setdefault(id(param), len(index_of))
                packed["params"].append(index)
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                if param in self.state and self.state[param]:
                    state[index_of[id(param)]] = {
                        key: _export(value) for key, value in self.state[param].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by :meth:`state_dict` (copies the arrays)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(groups)} parameter groups, but the optimizer has "
                f"{len(self.param_groups)}"
            )
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group ({len(saved['params'])} != {len(own['params'])})"
                )
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            for index, param in zip(saved["params"], own["params"]):
                by_index[index] = param
        self.state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            param = by_index.get(int(index))
            if param is None:
                continue
            self.state[param] = {key: _import(key, value, param) for key, value in values.items()}
        for saved, own in zip(groups, self.param_groups):
            for key, value in saved.items():
                if key != "params":
                    own[key] = value

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _export(value):
    """State arrays leave as tensors sharing memory; the step count as a float32 0-d tensor."""
    if isinstance(value, np.ndarray):
        return Tensor._make(value, False)
    if isinstance(value, (int, float)):
        return Tensor._make(np.array(value, np.float32), False)
    return value


def _import(key, value, param):
    if isinstance(value, Tensor):
        value = value._array
    if key == "step":
        return int(np.asarray(value).item())
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        array = np.array(value)  # a copy
        return array.astype(param.dtype) if array.dtype.kind == "f" else array
    return value


def hyper(group, name):
    """A group's hyper-parameter as a Python number: PyTorch allows 1-element tensors (``lr``, ...)."""
    value = group[name]
    return value._array.item() if isinstance(value, Tensor) else value


def grads_of(group):
    """(param, grad array) for each parameter of the group that has a gradient."""
    maximize = group.get("maximize", False)
    for param in group["params"]:
        grad = param.grad
        if grad is None:
            continue
        g = grad._array
        yield param, (-g if maximize else g)

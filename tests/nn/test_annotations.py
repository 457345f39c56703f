"""The public API is annotated: every nn layer's __init__/forward, every optimizer's __init__/step, the data sets
and DataLoader, and Trainer's entry points name the type of each parameter and of the result (make lint runs
mypy over them)."""

import inspect

import pytest

import soma.nn as nn
import soma.optim as optim
import soma.train as train
import soma.utils.data as data


def _public_functions():
    for name in nn.__all__:
        obj = getattr(nn, name)
        if inspect.isclass(obj) and issubclass(obj, nn.Module):
            yield from (getattr(obj, m) for m in ("__init__", "forward"))
    for name in optim.__all__:
        obj = getattr(optim, name)
        if inspect.isclass(obj):
            yield from (getattr(obj, m) for m in ("__init__", "step"))
    for name in ("DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset"):
        obj = getattr(data, name)
        yield from (vars(obj)[m] for m in ("__init__", "__iter__", "__len__", "__getitem__") if m in vars(obj))
    yield data.random_split
    yield from (getattr(train.Trainer, m) for m in ("__init__", "fit", "evaluate", "predict"))


FUNCTIONS = sorted({f for f in _public_functions() if inspect.isfunction(f)}, key=lambda f: f.__qualname__)


def test_the_walk_covers_the_public_api():
    names = {f.__qualname__ for f in FUNCTIONS}
    assert {"Linear.__init__", "Linear.forward", "Adam.__init__", "ElementwiseOptimizer.step", "DataLoader.__init__",
            "Trainer.fit"} <= names
    assert len(FUNCTIONS) > 150


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__qualname__)
def test_signature_is_annotated(function):
    hints = function.__annotations__
    missing = [p.name for p in inspect.signature(function).parameters.values()
               if p.name not in ("self", "cls") and p.name not in hints]
    assert not missing, f"{function.__qualname__}: parameters without a type: {missing}"
    assert "return" in hints, f"{function.__qualname__}: no return type"

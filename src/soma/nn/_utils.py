"""Helpers several nn layer families share."""

__all__ = ["maybe_inplace"]


def maybe_inplace(module, function, input, *args):
    """``function(input, *args)``, written into ``input`` when ``module.inplace`` is set (PyTorch's
    ``inplace=True``): the result is ``input`` itself, its history rebased onto the op, and a leaf
    that requires grad is an error, as for every in-place op."""
    if not module.inplace:
        return function(input, *args)
    return input._inplace(f"{type(module).__name__}(inplace=True)", function, *args)

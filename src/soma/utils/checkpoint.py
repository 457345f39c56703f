"""``torch.utils.checkpoint``'s names, so models that checkpoint their blocks run.

PyTorch's checkpoint trades compute for memory: it keeps no activations of ``function`` and runs it again
in the backward. soma runs ``function`` once, keeping its activations as any forward does: the outputs and
every gradient are the ones PyTorch's checkpoint gives (its recomputation reproduces the forward, random
state included), only the memory saving is not made.
"""

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, with PyTorch's signature (see the module docstring)."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or a list of modules) one after another on ``input``."""
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be positive, got {segments}")
    for function in functions.children() if hasattr(functions, "children") else functions:
        input = function(input)
    return input

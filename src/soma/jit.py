"""``torch.jit``'s names, so model code that mentions them runs.

soma has no compiler and no TorchScript: ``script`` and ``trace`` give back the module or function they are
handed (it runs as written, with the same numbers), the decorators (``ignore``, ``unused``, ``export``)
change nothing, and ``is_scripting()``/``is_tracing()`` are False, so the eager branch of a model is taken.
To deploy a soma model, export it with :func:`soma.onnx.export`; ``save``/``load`` say so.
"""

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "is_scripting", "is_tracing",
           "annotate", "save", "load", "Final"]

from typing import Final  # torch.jit.Final[int] in class annotations


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    return func


def trace_module(mod, inputs, *args, **kwargs):
    return mod


def _passthrough(function=None, **kwargs):
    if function is None:  # @torch.jit.ignore(drop=True)
        return lambda f: f
    return function


ignore = unused = export = _passthrough


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def save(m, f, _extra_files=None):
    raise RuntimeError("soma.jit.save: soma has no TorchScript; save the weights with soma.save(model.state_dict(), "
                       "path) or export the model with soma.onnx.export")


def load(f, map_location=None, _extra_files=None):
    raise RuntimeError("soma.jit.load: soma has no TorchScript; load weights with soma.load and "
                       "model.load_state_dict")

"""``export`` and ``verify``: a soma model → an ``.onnx`` file → onnxruntime, and back to soma's numbers.

How ``export`` works:

1. The model goes to eval mode (dropout off, batch norm on its running statistics),
   as ``torch.onnx.export`` does; each module's own mode is restored afterwards.
2. :func:`layers` lists the leaf modules in the order the forward applies them:
   the children of an ``nn.Sequential`` (nested ones too), or the halves of a model
   whose forward is known to be a chain of its children (``LeNet5``, ``DigitsCNN``,
   the autoencoders; see ``CHAINS``). Anything else is refused with an error naming it.
3. The example input runs through those layers one by one. Before each layer runs,
   its converter (``soma.onnx.converters.CONVERTERS``) writes the ONNX nodes for it,
   knowing the shape of its input (which settles ``'same'`` padding, the implicit
   softmax dim, or whether a ``Linear`` sees a matrix). The result of the chain must
   equal ``model(example)``: if a chain did not reproduce the forward, export fails
   rather than write a wrong file.
4. Parameters and buffers become initializers named by their ``state_dict`` names
   (``features.0.weight``, ``features.1.running_mean``, ...), the graph is checked
   with ``onnx.checker.check_model`` and written to a temporary file in the target's
   folder, then renamed over the target: a crash never leaves a half-written file.
"""

import importlib
import os
import tempfile
from collections import Counter

import numpy as np

import soma
from soma import nn
from soma.models import Autoencoder, ConvAutoencoder, DigitsCNN, LeNet5
from soma.tensor import Tensor

__all__ = ["export", "verify", "layers", "supported_modules", "CHAINS"]

MIN_OPSET = 13  # Softmax over one axis and Squeeze/Unsqueeze axes as inputs start at 13

# Models whose forward (in eval mode) is ``second(first(x))``: their parts, in order.
CHAINS = {
    LeNet5: ("features", "classifier"),
    DigitsCNN: ("features", "classifier"),
    Autoencoder: ("encoder", "decoder"),
    ConvAutoencoder: ("encoder", "decoder"),
}


def _require(package):
    try:
        return importlib.import_module(package)
    except ImportError as error:
        raise ImportError(
            f'soma.onnx needs the optional package {package!r}: pip install "soma[onnx]"'
        ) from error


def _converters():
    from soma.onnx.converters import CONVERTERS
    from soma.onnx.sequence import SEQUENCE_CONVERTERS

    return {**CONVERTERS, **SEQUENCE_CONVERTERS}


def _first(value):
    """A recurrent layer's (output, state): the output sequence is what the graph returns."""
    return value[0] if isinstance(value, tuple) else value


def supported_modules():
    """The names of the module types ``export`` understands (containers and chain models included)."""
    names = ["Sequential"] + [cls.__name__ for cls in CHAINS] + [cls.__name__ for cls in _converters()]
    return sorted(set(names))


def layers(module, prefix=""):
    """Yield ``(state_dict prefix, leaf module)`` in the order ``module``'s forward applies them.

    Raises:
        NotImplementedError: for a module type with no converter that is neither an
            ``nn.Sequential`` nor one of the chain models, naming it and the supported types.
    """
    kind = type(module)
    if kind in _converters():
        yield prefix, module
    elif kind is nn.Sequential:
        for name, child in module.named_children():
            yield from layers(child, f"{prefix}.{name}" if prefix else name)
    elif kind in CHAINS:
        for name in CHAINS[kind]:
            yield from layers(getattr(module, name), f"{prefix}.{name}" if prefix else name)
    else:
        where = f" (at {prefix!r})" if prefix else ""
        raise NotImplementedError(
            f"soma.onnx.export: cannot export {kind.__name__}{where}: no ONNX converter for it, and its "
            f"forward is not a known chain of sub-modules. Supported: {', '.join(supported_modules())}. "
            "Write the model as an nn.Sequential to export it."
        )


class Graph:
    """The ONNX graph under construction: nodes in execution order and initializers by name.

    Converters call :meth:`op` for each node, :meth:`weight` for a parameter or
    buffer (named by its state_dict name) and :meth:`constant` for a number of the
    formula (named ``"<layer>/<label>"``), all in the model's float dtype.
    """

    def __init__(self, onnx, dtype, opset_version):
        self.onnx, self.dtype, self.opset_version = onnx, np.dtype(dtype), opset_version
        self.nodes, self.initializers, self._uses = [], {}, Counter()

    def op(self, op_type, inputs, scope, **attributes):
        """Append node ``op_type(*inputs)`` named ``"<scope>/<op_type>"``; return its output's name."""
        name = f"{scope or 'model'}/{op_type}"
        self._uses[name] += 1
        if self._uses[name] > 1:
            name += f"_{self._uses[name] - 1}"
        output = f"{name}_output"
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [output], name=name, **attributes))
        return output

    def _initializer(self, name, array):
        if name not in self.initializers:
            self.initializers[name] = self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name)
        return name

    def weight(self, prefix, attribute, tensor):
        """The initializer for ``module.<attribute>``, named by its state_dict name."""
        name = f"{prefix}.{attribute}" if prefix else attribute
        return self._initializer(name, tensor._array if isinstance(tensor, Tensor) else tensor)

    def constant(self, scope, label, value, dtype=None):
        """A constant of the formula (``0.5``, ``√2``, a shape) as an initializer ``"<scope>/<label>"``."""
        return self._initializer(f"{scope or 'model'}/{label}", np.asarray(value, dtype or self.dtype))

    def check_opset(self, needed, what):
        if self.opset_version < needed:
            raise NotImplementedError(f"soma.onnx.export: {what} needs opset_version >= {needed}")


def _example(args):
    """One input tensor from ``args`` (a tensor, an array, or a tuple/list holding one)."""
    if isinstance(args, (tuple, list)):
        if len(args) != 1:
            raise NotImplementedError(
                f"soma.onnx.export: models with one input are supported, got {len(args)} inputs"
            )
        args = args[0]
    if isinstance(args, np.ndarray):
        args = soma.from_numpy(args)
    if not isinstance(args, Tensor) or args.dtype.kind != "f":
        raise TypeError(f"soma.onnx.export: the example input must be a float tensor, got {args!r}")
    return args


class _eval_mode:
    """Puts every module in eval mode and restores each one's own mode afterwards."""

    def __init__(self, model):
        self.model, self.modes = model, [(m, m.training) for m in model.modules()]

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        for module, mode in self.modes:
            module.__dict__["training"] = mode


def _value_info(onnx, name, array, dynamic_batch):
    shape = list(array.shape)
    if dynamic_batch and shape:
        shape[0] = "batch"
    elem_type = onnx.helper.np_dtype_to_tensor_dtype(array.dtype)
    return onnx.helper.make_tensor_value_info(name, elem_type, shape)


def _names(names, default, what):
    names = [default] if names is None else list(names)
    if len(names) != 1:
        raise ValueError(f"soma.onnx.export: {what} must hold one name, got {names!r}")
    return names


def _save_atomically(proto, path):
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(proto.SerializeToString())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _convert(graph, model, example, input_name, output_name):
    """Write the nodes of every layer into ``graph`` while running the example through them; return the output."""
    converters = _converters()
    with _eval_mode(model), soma.no_grad():
        value, name = example, input_name
        for prefix, layer in layers(model):
            name = converters[type(layer)](graph, layer, prefix, name, tuple(value.shape))
            value = _first(layer(value))
        expected = _first(model(example))
    if not np.array_equal(value.numpy(), expected.numpy()):
        raise RuntimeError(f"soma.onnx.export: the layers of {type(model).__name__} applied in order do not "
                           "reproduce its forward; export an nn.Sequential instead")
    if not graph.nodes or graph.nodes[-1].output[0] != name:  # e.g. a model of only Dropout layers
        graph.op("Identity", [name], "output")
    graph.nodes[-1].output[0] = output_name  # the last node writes the graph's output
    return expected


def export(model, args, path, input_names=None, output_names=None, dynamic_batch=True, opset_version=17):
    """Write ``model`` as an ONNX file that onnxruntime runs with soma's numbers (eval mode).

    Args:
        model: an ``nn.Sequential`` of supported layers (nested Sequentials too), a
            supported layer, or ``LeNet5``/``DigitsCNN``/``Autoencoder``/``ConvAutoencoder``.
        args: an example input (a tensor, or a tuple holding one); its shape fixes every
            dimension of the graph but the first.
        path: the ``.onnx`` file to write (replaced atomically).
        input_names, output_names: one name each (default ``["input"]``, ``["output"]``).
        dynamic_batch: make dimension 0 of the input and output symbolic (``"batch"``)
            so the file runs on any batch size; ``False`` fixes it to the example's.
        opset_version: the ONNX operator set (13 or later; ``LayerNorm`` needs 17).

    Returns:
        the ``onnx.ModelProto`` that was written.

    Raises:
        NotImplementedError: for a module or option with no ONNX mapping, naming it.
        ImportError: when the ``onnx`` package is missing (``pip install "soma[onnx]"``).
    """
    onnx = _require("onnx")
    highest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset_version <= highest:
        raise ValueError(f"soma.onnx.export: opset_version must be in [{MIN_OPSET}, {highest}], got {opset_version}")
    (input_name,) = _names(input_names, "input", "input_names")
    (output_name,) = _names(output_names, "output", "output_names")
    example = _example(args)
    graph = Graph(onnx, example.dtype, opset_version)
    expected = _convert(graph, model, example, input_name, output_name)
    opsets = [onnx.helper.make_opsetid("", opset_version)]
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes, type(model).__name__,
            [_value_info(onnx, input_name, example.numpy(), dynamic_batch)],
            [_value_info(onnx, output_name, expected.numpy(), dynamic_batch)],
            list(graph.initializers.values()),
        ),
        opset_imports=opsets,
        ir_version=onnx.helper.find_min_ir_version_for(opsets),  # the oldest IR the opset allows: runs widest
        producer_name="soma",
        producer_version=getattr(soma, "__version__", ""),
    )
    onnx.checker.check_model(proto, full_check=True)
    _save_atomically(proto, path)
    return proto


def verify(model, args, path):
    """Run the ONNX file at ``path`` in onnxruntime on ``args`` and return max |onnx − soma| (eval mode).

    A quick check after :func:`export`, on inputs other than the export example (for
    instance another batch size). float32 models agree to about 1e-6.
    """
    ort = _require("onnxruntime")
    example = _example(args)
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    (result,) = session.run(None, {session.get_inputs()[0].name: example.numpy()})
    with _eval_mode(model), soma.no_grad():
        expected = _first(model(example)).numpy()
    if result.shape != expected.shape:
        raise RuntimeError(f"soma.onnx.verify: onnxruntime gave shape {result.shape}, soma {expected.shape}")
    return float(np.max(np.abs(result.astype(np.float64) - expected), initial=0.0))

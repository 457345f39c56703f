"""``summary(model, input_shape)``: a Keras-style table of a model's layers.

One forward pass on a batch of zeros, watched by forward hooks, gives each
layer's output shape; counting gives its parameters and multiply-accumulate
operations (MACs, one ``a += w·x`` each) per sample:

=================  ===============================================================
Linear             ``in_features × out_features`` per position
Conv1d / Conv2d    ``(in_channels / groups) × kernel area`` per output element
ConvTranspose2d    ``(out_channels / groups) × kernel area`` per input element
RNN / LSTM / GRU   ``gates × hidden × (input + hidden)`` per time step and layer
                   (gates: 1 for RNN, 4 for LSTM, 3 for GRU)
=================  ===============================================================

Parameters are counted from ``model.parameters()`` (shared ones once);
trainable ones are those with ``requires_grad``.

Example:
    >>> model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    >>> s = summary(model, (784,), verbose=0)
    >>> s.total_params, s.total_mult_adds
    (407050, 406528)
"""

import numpy as np

from soma.autograd import no_grad
from soma.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from soma.nn.linear import Bilinear, Linear
from soma.nn.rnn import RNNBase, RNNCellBase
from soma.tensor import Tensor

__all__ = ["summary", "ModelSummary", "count_parameters", "mult_adds"]


def count_parameters(model, trainable_only=False):
    """Number of scalars in ``model.parameters()`` (only ``requires_grad`` ones if asked)."""
    return sum(p._array.size for p in model.parameters() if p.requires_grad or not trainable_only)


def _first_tensor(value):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def mult_adds(module, inputs, output):
    """Multiply-accumulate count of one call of ``module`` (0 for layers without weights)."""
    out = _first_tensor(output)
    x = _first_tensor(inputs)
    if out is None or x is None:
        return 0
    if isinstance(module, Linear):
        return out._array.size // module.out_features * module.weight._array.size
    if isinstance(module, Bilinear):
        return out._array.size * module.in1_features * module.in2_features
    if isinstance(module, (Conv1d, Conv2d)):
        return out._array.size * module.weight._array[0].size
    if isinstance(module, (ConvTranspose1d, ConvTranspose2d)):
        return x._array.size * module.weight._array[0].size
    if isinstance(module, (RNNBase, RNNCellBase)):
        weights = sum(
            p._array.size for name, p in module.named_parameters() if name.startswith("weight_")
        )
        if isinstance(module, RNNCellBase):
            steps = x.shape[0] if x.ndim == 2 else 1
        else:  # time steps × batch: every element of the input but its features
            steps = x._array.size // module.input_size
        return steps * weights
    return 0


def _shape_text(value, batch):
    if isinstance(value, Tensor):
        shape = ["None" if i == 0 and batch else str(d) for i, d in enumerate(value.shape)]
        return "(" + ", ".join(shape) + ("," if len(shape) == 1 else "") + ")"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_shape_text(v, batch) for v in value) + "]"
    return "-"


class ModelSummary:
    """The result of :func:`summary`; ``str()`` is the table.

    Attributes:
        rows: one ``(name, type, output_shape, params, mult_adds)`` per layer call.
        total_params, trainable_params, non_trainable_params: parameter counts.
        total_mult_adds: MACs of one forward pass per sample (for the whole
            ``input_data`` when that was given instead of ``input_shape``).
    """

    def __init__(self, model, rows, batch_size, per_sample=True):
        self.rows, self.per_sample = rows, per_sample
        self.total_params = count_parameters(model)
        self.trainable_params = count_parameters(model, trainable_only=True)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.total_mult_adds = sum(row[4] for row in rows) // batch_size
        self.model_name = type(model).__name__

    def __str__(self):
        header = ("Layer (type)", "Output Shape", "Param #", "Mult-Adds")
        lines = [
            (f"{name} ({kind})", shape, f"{params:,}", f"{macs:,}")
            for name, kind, shape, params, macs in self.rows
        ]
        widths = [max(len(r[i]) for r in [header, *lines]) + 3 for i in range(4)]
        width = sum(widths)

        def row(cells):
            return "".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )

        out = [f'Model: "{self.model_name}"', "=" * width, row(header), "=" * width]
        out += [row(line) for line in lines]
        out += [
            "=" * width,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Mult-adds {'per sample' if self.per_sample else 'for the input'}: "
            f"{self.total_mult_adds:,}",
            "=" * width,
        ]
        return "\n".join(out)

    __repr__ = __str__


def summary(model, input_shape=None, *, input_data=None, batch_size=1, dtype=None, verbose=1):
    """Print (``verbose=1``) and return a :class:`ModelSummary` of ``model``.

    Args:
        model: an ``nn.Module``.
        input_shape: the shape of ONE sample, without the batch dimension
            (Keras's convention), e.g. ``(1, 28, 28)``; the batch shows as ``None``.
        input_data: instead of ``input_shape``, a tensor (or tuple of tensors)
            to run, for models whose batch is not dimension 0.
        batch_size: the batch of zeros run through the model.
        dtype: of the zeros (the model's parameter dtype by default).

    The model runs once in eval mode with gradients off and goes back to its
    mode afterwards; the global random generator is not touched.
    """
    if (input_shape is None) == (input_data is None):
        raise ValueError("summary: give input_shape (one sample's shape) or input_data, not both")
    if input_data is None:
        if dtype is None:
            dtype = next((p._array.dtype for p in model.parameters()), np.dtype(np.float32))
        input_data = Tensor._make(np.zeros((batch_size, *tuple(input_shape)), dtype=dtype), False)
    else:
        batch_size = 1
    inputs = input_data if isinstance(input_data, tuple) else (input_data,)
    rows, handles = [], []
    for name, module in model.named_modules():
        if module is model and any(True for _ in model.children()):
            continue
        own = sum(p._array.size for p in module.parameters(recurse=False))
        if any(True for _ in module.children()) and not own:
            continue  # a container: its layers have their own rows

        def hook(module, args, output, name=name, own=own):
            shape = _shape_text(output, input_shape is not None)
            rows.append(
                (
                    name or type(module).__name__,
                    type(module).__name__,
                    shape,
                    own,
                    mult_adds(module, args, output),
                )
            )

        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    result = ModelSummary(model, rows, batch_size, per_sample=input_shape is not None)
    if verbose:
        print(result)
    return result

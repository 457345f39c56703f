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
trainable ones are those with ``requires_grad``. Memory is counted as torchinfo
counts it: a row's parameter bytes, its output's bytes for the batch run, and in
the footer the input, the parameters and the forward/backward pass (every
output twice: once kept for the backward pass, once for its gradient).

Two conventions for the input: Keras's ``input_shape``, one sample without the
batch dimension (shown as ``None``), and torchinfo's ``input_size``, the whole
batch's shape (shown as given). ``depth`` (torchinfo's, default 3) is how many
levels of nested modules get rows; a module at the last level shown counts
everything below it.

Example:
    >>> model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    >>> s = summary(model, (784,), verbose=0)
    >>> s.total_params, s.total_mult_adds
    (407050, 406528)
"""

import functools
import html
import sys

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


def _nbytes(value):
    if isinstance(value, Tensor):
        return value._array.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 0


def _megabytes(n):
    return f"{n / 1e6:,.2f}"


def _size(n):
    """Bytes in the unit that reads best: ``512 B``, ``13.8 KB``, ``1.2 MB``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _in_ipython():
    shell = sys.modules.get("IPython")
    try:
        return shell.get_ipython() if shell is not None else None
    except AttributeError:
        return None


class ModelSummary:
    """The result of :func:`summary`; ``str()`` is the table, and a notebook shows it once.

    Attributes:
        rows: one ``(name, type, output_shape, params, mult_adds, param_bytes, output_bytes, depth)``
            per module call shown.
        total_params, trainable_params, non_trainable_params: parameter counts.
        total_mult_adds: MACs of one forward pass per sample (for the whole
            ``input_size``/``input_data`` when that was given instead of ``input_shape``).
        input_bytes, params_bytes, forward_backward_bytes, total_bytes: the footer's memory estimates.
    """

    def __init__(self, model, rows, batch_size, per_sample=True, input_bytes=0, output_bytes=0):
        self.rows, self.per_sample = rows, per_sample
        self.total_params = count_parameters(model)
        self.trainable_params = count_parameters(model, trainable_only=True)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.total_mult_adds = sum(row[4] for row in rows) // batch_size
        self.model_name = type(model).__name__
        self.input_bytes = input_bytes
        self.params_bytes = sum(p._array.nbytes for p in model.parameters())
        self.forward_backward_bytes = 2 * output_bytes
        self.total_bytes = self.input_bytes + self.params_bytes + self.forward_backward_bytes
        self._printed_at = None

    def __str__(self):
        header = ("Layer (type)", "Output Shape", "Param #", "Param mem", "Output mem", "Mult-Adds")
        lines = [
            (
                "  " * max(depth - 1, 0) + f"{name} ({kind})",
                shape,
                "--" if params is None else f"{params:,}",
                "--" if params is None else _size(param_bytes),
                _size(output_bytes),
                f"{macs:,}",
            )
            for name, kind, shape, params, macs, param_bytes, output_bytes, depth in self.rows
        ]
        widths = [max(len(r[i]) for r in [header, *lines]) + 2 for i in range(len(header))]
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
            f"Input size (MB): {_megabytes(self.input_bytes)}",
            f"Forward/backward pass size (MB): {_megabytes(self.forward_backward_bytes)}",
            f"Params size (MB): {_megabytes(self.params_bytes)}",
            f"Estimated Total Size (MB): {_megabytes(self.total_bytes)}",
            "=" * width,
        ]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self):
        return f"<pre>{html.escape(str(self))}</pre>"

    def _ipython_display_(self):
        """IPython shows a cell's last value; a summary that cell already printed is not shown twice."""
        shell = _in_ipython()
        count = getattr(shell, "execution_count", None)
        if self._printed_at is not None and count == self._printed_at:
            self._printed_at = None
            return
        from IPython.display import display

        display({"text/plain": str(self), "text/html": self._repr_html_()}, raw=True)


def _check_sizes(sizes, name):
    if isinstance(sizes, tuple) or (isinstance(sizes, list) and sizes and not isinstance(sizes[0], (list, tuple))):
        sizes = [sizes]
    for size in sizes:
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in size):
            raise ValueError(f"summary: {name} must hold positive integer sizes, got {tuple(size)!r}")
    return [tuple(int(d) for d in size) for size in sizes]


def _inputs(model, input_shape, input_size, input_data, batch_size, dtype):
    given = [value is not None for value in (input_shape, input_size, input_data)]
    if sum(given) != 1:
        raise ValueError(
            "summary: give one of input_shape (one sample's shape, Keras), input_size (the batch's "
            "shape, torchinfo) or input_data (tensors)"
        )
    if input_data is not None:
        return (input_data if isinstance(input_data, tuple) else (input_data,)), 1
    if dtype is None:
        dtype = next((p._array.dtype for p in model.parameters()), np.dtype(np.float32))
    if input_shape is not None:
        shapes = [(batch_size, *size) for size in _check_sizes(input_shape, "input_shape")] if input_shape else [
            (batch_size,)
        ]
    else:
        shapes = _check_sizes(input_size, "input_size")
        batch_size = shapes[0][0] if shapes[0] else 1
    return tuple(Tensor._make(np.zeros(shape, dtype=dtype), False) for shape in shapes), batch_size


def summary(
    model,
    input_shape=None,
    *,
    input_size=None,
    input_data=None,
    batch_size=1,
    dtype=None,
    depth=3,
    verbose=1,
):
    """Print (``verbose=1``) and return a :class:`ModelSummary` of ``model``.

    Args:
        model: an ``nn.Module``.
        input_shape: the shape of ONE sample, without the batch dimension
            (Keras's convention), e.g. ``(1, 28, 28)``; the batch shows as ``None``.
        input_size: the shape of the whole batch, batch dimension first (torchinfo's
            convention), e.g. ``(16, 1, 28, 28)``; a list of shapes for several inputs.
        input_data: instead, a tensor (or tuple of tensors) to run, for models whose
            batch is not dimension 0.
        batch_size: the batch of zeros run with ``input_shape``.
        dtype: of the zeros (the model's parameter dtype by default).
        depth: how many levels of nested modules get a row (torchinfo's ``depth``).
        verbose: 1 prints the table (in a notebook it then shows once, not twice), 0 does not.

    The model runs once in eval mode with gradients off and goes back to its
    mode afterwards; the global random generator is not touched.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"summary: depth must be a positive integer, got {depth!r}")
    inputs, batch_size = _inputs(model, input_shape, input_size, input_data, batch_size, dtype)
    recorder = _Recorder(model, depth, keras=input_shape is not None)
    _run_once(model, inputs, recorder.attach())
    result = ModelSummary(
        model,
        [tuple(row) for row in recorder.rows],
        batch_size,
        per_sample=input_data is None,
        input_bytes=sum(x._array.nbytes for x in inputs),
        output_bytes=recorder.leaf_bytes,
    )
    if verbose:
        print(result)
        shell = _in_ipython()
        result._printed_at = getattr(shell, "execution_count", None) if shell is not None else None
    return result


class _Recorder:
    """Forward hooks that write one row per shown module: name, type, output shape, parameters, MACs,
    parameter bytes, output bytes, level. A module below ``depth`` adds its MACs to the nearest shown
    ancestor's row; a module at ``depth`` with children is folded (its row counts its subtree)."""

    def __init__(self, model, depth, keras):
        self.model, self.depth, self.keras = model, depth, keras
        self.rows, self.stack, self.leaf_bytes = [], [], 0
        self.has_children = {id(m): any(True for _ in m.children()) for _, m in model.named_modules()}

    def attach(self):
        """Register the hooks on every module; returns their handles."""
        handles = []
        for name, module in self.model.named_modules():
            level = 0 if module is self.model else name.count(".") + 1
            nested = self.has_children[id(module)]
            shown = level <= self.depth and not (module is self.model and nested)
            folded = level == self.depth and nested  # its subtree is counted in its row
            handles.append(module.register_forward_pre_hook(
                functools.partial(self._open_row, name=name, level=level, shown=shown, folded=folded)))
            handles.append(module.register_forward_hook(self._close_row))
        return handles

    def _open_row(self, module, args, name, level, shown, folded):
        if not shown:
            self.stack.append(None)
            return
        own = sum(p._array.size for p in module.parameters(recurse=False))
        expanded = self.has_children[id(module)] and not folded
        params = list(module.parameters() if folded else module.parameters(recurse=False))
        count = sum(p._array.size for p in params)
        row = [name or type(module).__name__, type(module).__name__, "-",
               None if expanded and not own else count, 0, sum(p._array.nbytes for p in params), 0, level]
        self.rows.append(row)
        self.stack.append(row)

    def _close_row(self, module, args, output):
        row = self.stack.pop()
        macs = mult_adds(module, args, output)
        target = row if row is not None else next((r for r in reversed(self.stack) if r is not None), None)
        if target is not None:
            target[4] += macs
        if row is not None:
            row[2], row[6] = _shape_text(output, self.keras), _nbytes(output)
        if not self.has_children[id(module)]:
            self.leaf_bytes += _nbytes(output)


def _run_once(model, inputs, handles):
    """One forward pass in eval mode without gradients; the hooks removed and the mode restored after."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

"""``soma.explain.step``: one training step written out the way the notes work it by hand.

The step runs on a deep copy of the model (see :mod:`soma.explain.trace`): forward
pass, loss, backward pass, one plain SGD update ``p' = p − η·dE/dp``. Then the
report is assembled from what soma computed:

- a ``Linear`` layer seen by a single sample is written neuron by neuron
  (:mod:`soma.explain.dense`), together with the elementwise activation applied to
  its output: ``net_h1 = w1·x1 + w2·x2 + b_h1 = ...``, ``out_h1 = σ(net_h1) = ...``,
  each delta and weight gradient as a product of chain-rule factors, each update;
- every other layer (conv, pooling, recurrent, normalization, or a ``Linear`` fed a
  batch) is written at the layer level (:mod:`soma.explain.layers`).

Weights are numbered w1, w2, ... layer after layer, row by row of ``weight`` (the
numbering of notes 004); neurons are h1, h2, ... (h1_1, h2_1, ... with several hidden
layers) and o1, o2, ... for the last dense layer; inputs are x1, x2, ...
"""

from soma.explain.activations import is_elementwise
from soma.explain.dense import DenseBlock
from soma.explain.dense import backward_lines as dense_backward
from soma.explain.dense import forward_lines as dense_forward
from soma.explain.dense import update_lines as dense_update
from soma.explain.layers import backward_lines as layer_backward
from soma.explain.layers import forward_lines as layer_forward
from soma.explain.layers import update_lines as layer_update
from soma.explain.losses import loss_lines
from soma.explain.report import Report
from soma.explain.trace import copy_parameters_into, trace_step

__all__ = ["step", "forward", "plan"]

MAX_WEIGHTS = 256  # a Linear with more weights than this is explained at the layer level


def step(model, inputs, targets, loss, lr, apply=False, digits=6, title=None, cell=None):
    """Explain one SGD step of ``model`` on ``(inputs, targets)``; returns a :class:`Report`.

    Args:
        model: a soma ``Module`` (left untouched unless ``apply=True``).
        inputs: the input batch (a tensor, array or list; one sample for neuron-level detail).
        targets: the targets ``loss`` compares the output with.
        loss: a loss module or function ``loss(output, targets) -> scalar tensor``.
        lr: the learning rate η of the update ``p' = p − η·dE/dp``.
        apply: also write the updated parameters into ``model``.
        digits: significant digits when the report is rendered.
        title: the report's first line.
        cell: ``(i, j)`` or ``(channel, i, j)``: write that output cell of every Conv2d, MaxPool2d
            and AvgPool2d layer as its sum of products (of the first sample).

    Example::

        >>> report = soma.explain.step(model, [0.05, 0.10], [0.01, 0.99], nn.MSELoss(), lr=0.5)
        >>> print(report)                       # every number of the step, written out
        >>> report.values["dE/dw5"]             # exactly what autograd computed
    """
    trace = trace_step(model, inputs, targets, loss, lr)
    blocks = plan(trace)
    report = Report(title or f"One training step of {type(model).__name__} (η = {lr})", digits)
    _given(report, trace, blocks)

    forward = report.section("Forward pass")
    for block in blocks:
        if isinstance(block, DenseBlock):
            dense_forward(report, forward, block, trace)
        else:
            layer_forward(report, forward, block, digits, cell)

    loss_formula = None
    if trace.loss is not None:
        last = blocks[-1] if blocks else None
        neurons = (
            last.neurons if isinstance(last, DenseBlock) and last.out is trace.output else None
        )
        loss_formula = loss_lines(report, report.section("Loss"), trace, neurons)
        backward = report.section("Backward pass (chain rule, from the output back)")
        for index in range(len(blocks) - 1, -1, -1):
            block = blocks[index]
            if isinstance(block, DenseBlock):
                dense_backward(
                    report, backward, block, trace, _next_dense(block, blocks, trace), loss_formula
                )
            else:
                layer_backward(report, backward, block, trace, digits)
        update = report.section(f"Update (SGD, η = {lr})")
        for block in blocks:
            if isinstance(block, DenseBlock):
                dense_update(report, update, block, trace)
            else:
                layer_update(report, update, block, trace, digits)
    _record_parameters(report, trace)
    if apply:
        copy_parameters_into(model, trace)
    return report


def forward(model, inputs, digits=6, title=None, cell=None):
    """Explain only the forward pass of ``model`` on ``inputs`` (no loss, no update).

    Example::

        >>> print(soma.explain.forward(soma.classic.and_gate(), [1.0, 1.0]))
    """
    return step(
        model,
        inputs,
        None,
        None,
        0.0,
        digits=digits,
        title=title or f"Forward pass of {type(model).__name__}",
        cell=cell,
    )


def plan(trace, max_weights=MAX_WEIGHTS):
    """Group the recorded calls into dense blocks (Linear + activation) and layer-level calls."""
    from soma.nn.linear import Linear

    blocks, taken = [], set()
    for index, call in enumerate(trace.calls):
        if id(call) in taken:
            continue
        module = call.module
        single = (
            call.inputs
            and call.inputs[0].ndim in (1, 2)
            and call.inputs[0]._array.size == call.inputs[0].shape[-1]
        )
        if isinstance(module, Linear) and single and module.weight._array.size <= max_weights:
            following = trace.calls[index + 1] if index + 1 < len(trace.calls) else None
            activation = None
            if (
                following is not None
                and is_elementwise(following.module)
                and following.inputs[0] is call.output
            ):
                activation = following
                taken.add(id(following))
            blocks.append(DenseBlock(call, activation, "", [], []))
        else:
            blocks.append(call)
    _name(blocks, trace)
    return blocks


def _name(blocks, trace):
    dense = [b for b in blocks if isinstance(b, DenseBlock)]
    number, fed = 1, 0
    for position, block in enumerate(dense):
        if position == len(dense) - 1:
            block.letter = "o"
        else:
            block.letter = "h" if len(dense) == 2 else f"h{position + 1}_"
        source = block.linear.inputs[0]
        previous = next((b for b in dense[:position] if b.out is source), None)
        size = block.module.weight.shape[1]
        if previous is not None:
            block.input_names = [f"out_{n}" for n in previous.neurons]
        elif source is trace.inputs:
            block.input_names = [f"x{i + 1}" for i in range(size)]
        else:
            fed += 1
            prefix = "a" if fed == 1 else f"a{fed}_"
            block.input_names = [f"{prefix}{i + 1}" for i in range(size)]
        rows, columns = block.module.weight.shape
        block.weight_names = [
            [f"w{number + j * columns + i}" for i in range(columns)] for j in range(rows)
        ]
        number += rows * columns


def _next_dense(block, blocks, trace):
    consumers = trace.consumers(block.out)
    if len(consumers) != 1:
        return None
    return next((b for b in blocks if isinstance(b, DenseBlock) and b.linear is consumers[0]), None)


def _given(report, trace, blocks):
    section = report.section("Given")
    report.text(section, f"Model: {trace.model!r}".replace("\n", "\n  "))
    if trace.loss_fn is not None:
        name = getattr(trace.loss_fn, "__name__", None) or repr(trace.loss_fn)
        report.text(section, f"Loss: {name}; learning rate η = {trace.lr}")
    first = next(
        (b for b in blocks if isinstance(b, DenseBlock) and b.linear.inputs[0] is trace.inputs),
        None,
    )
    if first is not None:
        for name, value in zip(first.input_names, trace.inputs._array.reshape(-1), strict=False):
            report.equation(section, name, value)
    else:
        report.equation(
            section, "input", trace.inputs._array, note=f"shape {tuple(trace.inputs.shape)}"
        )
    if trace.targets is not None:
        report.equation(section, "target", trace.targets._array)
    if trace.loss_fn is not None:
        report.equation(section, "η", trace.lr)


def _record_parameters(report, trace):
    """Every parameter's value, gradient and update in ``report.values`` under its own name."""
    for name, before in trace.before.items():
        report.values.setdefault(name, before)
        if trace.grads.get(name) is not None:
            report.values[f"dE/d{name}"] = trace.grads[name]
        report.values[f"{name}'"] = trace.after[name]

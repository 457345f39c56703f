"""einsum: products and sums over named indices, with a backward that is itself an einsum.

For ``out = einsum("ij,jk->ik", A, B)``, ∂L/∂A = einsum("ik,jk->ij", G, B): the gradient
of operand k contracts the output gradient with every other operand onto k's subscripts.
Two cases need care. A letter repeated in operand k ("ii->i", a diagonal) cannot be an
output subscript of einsum, so its repeats get fresh letters tied to the original by an
identity matrix: ∂/∂Aᵢⱼ of einsum("ii->i") is G_i δᵢⱼ. A letter only operand k has
(summed away in the forward: "ij->i") gets a vector of ones, which broadcasts the gradient
along it. Because the backward is an einsum, the same construction over soma tensors is the
differentiable backward that higher-order gradients need.

The equation is PyTorch's: letters a-z and A-Z, ``...`` for broadcast batch dims, ``->``
for an explicit output (without it, the ``...`` dims then the letters seen once, sorted).
Operands broadcast where a letter has size 1 in one of them.
"""

import string

import numpy as np

from soma.autograd.function import Function
from soma.backend import as_array
from soma.ops._common import as_tensor_arg
from soma.tensor import Tensor

__all__ = ["einsum", "Einsum"]

LETTERS = string.ascii_letters


class Einsum(Function):
    """out = einsum(equation, *operands), the equation explicit, without ``...`` and with matching sizes"""

    @staticmethod
    def forward(ctx, equation, *operands):
        return np.einsum(equation, *operands, optimize=len(operands) > 2)

    @staticmethod
    def backward(ctx, grad):
        equation = ctx.inputs[0]
        operands = [a._array if isinstance(a, Tensor) else a for a in ctx.inputs[1:]]
        grads = [None]
        for k, needed in enumerate(ctx.needs_input_grad[1:]):
            if needed:
                gradient_equation, extra = _gradient_equation(equation, k, [a.shape for a in operands], as_array(grad))
                others = [a for i, a in enumerate(operands) if i != k]
                grads.append(np.einsum(gradient_equation, grad, *others, *extra, optimize=True))
            else:
                grads.append(None)
        return tuple(grads)

    @staticmethod
    def formula(ctx, grad):
        equation = ctx.inputs[0]
        operands = list(ctx.inputs[1:])
        grads = [None]
        for k, needed in enumerate(ctx.needs_input_grad[1:]):
            if needed:
                gradient_equation, extra = _gradient_equation(equation, k, [a.shape for a in operands], grad._array)
                others = [a for i, a in enumerate(operands) if i != k]
                extra = [Tensor._make(e, False) for e in extra]
                grads.append(Einsum.apply(gradient_equation, grad, *others, *extra))
            else:
                grads.append(None)
        return tuple(grads)


def _gradient_equation(equation, k, shapes, like):
    """(equation, extra constant operands) whose einsum of (grad, the other operands, extras) is ∂out/∂operand k;
    the extras are made beside ``like`` (the gradient's array), in its dtype."""
    dtype = like.dtype
    inputs, output = equation.split("->")
    subscripts = inputs.split(",")
    target = subscripts[k]
    used = set(equation)
    fresh = (c for c in LETTERS if c not in used)
    sizes = {c: n for s, shape in zip(subscripts, shapes) for c, n in zip(s, shape)}
    others = [s for i, s in enumerate(subscripts) if i != k]
    terms, extra = [output, *others], []
    result, seen = [], set()
    for letter in target:
        if letter in seen:  # a repeat: a fresh letter, equal to the first by an identity matrix
            new = next(fresh)
            terms.append(letter + new)
            extra.append(np.eye(sizes[letter], dtype=dtype, like=like))
            result.append(new)
        else:
            seen.add(letter)
            result.append(letter)
    present = set("".join([output, *others]))
    for letter in seen - present:  # summed away in operand k alone: the gradient broadcasts along it
        terms.append(letter)
        extra.append(np.ones_like(like, shape=sizes[letter]))
    return ",".join(terms) + "->" + "".join(result), extra


def _parse(equation, operands):
    """(explicit equation, operands broadcast to agreeing sizes) from PyTorch's equation forms."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(subscripts) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for part in subscripts + [output]:
        bad = set(part.replace("...", "")) - set(LETTERS)
        if bad or part.count("...") > 1 or part.replace("...", "").count(".") > 0:
            raise RuntimeError(f"einsum(): invalid subscript given in the equation {equation!r}: {part!r}")
    used = set(inputs + output) - {"."}
    spare = [c for c in LETTERS if c not in used]
    ellipsis_ndim = 0
    for i, (part, operand) in enumerate(zip(subscripts, operands)):
        named = len(part.replace("...", ""))
        if "..." in part:
            if operand.ndim < named:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                                   f"number of dimensions ({operand.ndim}) for operand {i}")
            ellipsis_ndim = max(ellipsis_ndim, operand.ndim - named)
        elif named != operand.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({operand.ndim}) for operand {i} and no ellipsis was given")
    batch = "".join(spare[:ellipsis_ndim])
    explicit = []
    for part, operand in zip(subscripts, operands):
        if "..." in part:
            n = operand.ndim - len(part.replace("...", ""))
            part = part.replace("...", batch[ellipsis_ndim - n:] if n else "")
        explicit.append(part)
    if arrow:
        output = output.replace("...", batch)  # an output without "..." sums those dims away, as PyTorch
        for letter in output:
            if letter not in "".join(explicit):
                raise RuntimeError(f"einsum(): output subscript {letter} does not appear in the equation for any "
                                   "input operand")
        if len(set(output)) != len(output):
            raise RuntimeError(f"einsum(): output subscript {output} appears more than once in the output")
    else:
        counts = "".join(s.replace("...", "") for s in subscripts)
        output = batch + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    return ",".join(explicit) + "->" + output, _broadcast(explicit, operands)


def _broadcast(subscripts, operands):
    """The operands expanded where a letter has size 1 in some and n in others (PyTorch broadcasts them)."""
    from soma.ops.shape import expand

    sizes = {}
    for i, (part, operand) in enumerate(zip(subscripts, operands)):
        for letter, n in zip(part, operand.shape):
            seen = sizes.get(letter, 1)
            if n != seen and n != 1 and seen != 1:
                raise RuntimeError(f"einsum(): subscript {letter} has size {n} for operand {i} which does not "
                                   f"broadcast with previously seen size {seen}")
            if seen == 1:  # size 1 broadcasts to anything, size 0 included
                sizes[letter] = n
    out = []
    for part, operand in zip(subscripts, operands):
        target = tuple(sizes[c] for c in part)
        if target != tuple(operand.shape):
            if len(set(part)) != len(part):  # a diagonal of different sizes cannot be broadcast
                raise RuntimeError(f"einsum(): subscripts {part} of operand with shape {tuple(operand.shape)} "
                                   "repeat a letter with different sizes")
            operand = expand(operand, target)
        out.append(operand)
    return out


def einsum(equation, *operands):
    """Sum of products over the letters of ``equation`` (``"ij,jk->ik"``: matmul; ``"ii"``: trace;
    ``"...ij->...ji"``: batched transpose; ``"bi,bj->bij"``: outer products by batch)."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [as_tensor_arg(op, "einsum", f"operands[{i}]") for i, op in enumerate(operands)]
    dtypes = {op._array.dtype for op in operands}
    if len(dtypes) > 1:
        first, other = operands[0]._array.dtype, next(d for d in (op._array.dtype for op in operands)
                                                      if d != operands[0]._array.dtype)
        raise RuntimeError(f"einsum(): expected scalar type {first} but found {other} (all operands must have "
                           "one dtype)")
    explicit, operands = _parse(equation, operands)
    if operands and operands[0]._array.dtype == np.bool_:
        raise RuntimeError("einsum(): bool operands are not supported")
    return Einsum.apply(explicit, *operands)

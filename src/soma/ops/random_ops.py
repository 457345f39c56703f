"""Random sampling from tensors of parameters: bernoulli, multinomial, poisson, and the in-place fills.

Every draw comes from soma's global generator (:mod:`soma.random`), so ``soma.manual_seed``
repeats a run; the streams are NumPy's, so the numbers differ from PyTorch's for one seed
while the distributions are the same. Samples carry no gradient (PyTorch's are constants of
the graph too).

multinomial without replacement draws k categories in one pass by the exponential-keys
method (Efraimidis and Spirakis): with Eᵢ ~ Exp(1), the k smallest keys Eᵢ / pᵢ are the
categories in the order successive draws without replacement would pick them.
"""

import numpy as np

from soma import backend
from soma.ops._common import as_tensor_arg, write_out
from soma.random import generator as _global_generator
from soma.tensor import Tensor

__all__ = ["bernoulli", "multinomial", "poisson"]


def _rng(generator):
    return _global_generator() if generator is None else generator


def _beside(draws, array):
    """Host draws moved to ``array``'s device: the generator is NumPy's, so a seed gives one stream everywhere."""
    return backend.of(array).transfer(draws)


def _check_probabilities(p, name):
    if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
        raise RuntimeError(f"{name}: expected every probability p to satisfy 0 <= p <= 1, got values in "
                           f"[{np.nanmin(p)}, {np.nanmax(p)}]" + (" and NaN" if np.isnan(p).any() else ""))


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws, 1 with probability ``input`` elementwise (or the number ``p`` everywhere), in input's dtype."""
    input = as_tensor_arg(input, "bernoulli")
    if p is not None:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        probabilities = p
    else:
        if input._array.dtype.kind not in "f":
            raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{input.dtype}'")
        probabilities = input._array
        _check_probabilities(probabilities, "bernoulli")
    draws = _beside(_rng(generator).random(input.shape), input._array) < probabilities
    dtype = input._array.dtype if input._array.dtype.kind == "f" else np.dtype(np.float32)
    return write_out(Tensor._make(draws.astype(dtype), False), out, "bernoulli")


def fill_bernoulli(tensor, p=0.5, *, generator=None):
    """``tensor.bernoulli_(p)``: fill with 0/1 draws, p a number or a tensor of probabilities (broadcast)."""
    from soma.autograd.function import _Mode, mark_dirty

    if _Mode.grad and tensor.requires_grad:
        raise RuntimeError("bernoulli_: a leaf Variable that requires grad is being used in an in-place operation.")
    if isinstance(p, Tensor):
        if tensor._array.dtype.kind != "f":
            raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{tensor.dtype}'")
        probabilities = p._array
        _check_probabilities(probabilities, "bernoulli_")
        probabilities = np.broadcast_to(probabilities, tensor.shape)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        probabilities = p
    tensor._array[...] = _beside(_rng(generator).random(tensor.shape), tensor._array) < probabilities
    mark_dirty(tensor)
    return tensor


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """``num_samples`` category indices per row of the non-negative weights ``input`` (1-D or 2-D), int64.

    Without replacement each category is drawn at most once, so ``num_samples`` may not exceed the
    number of categories; the weights need not sum to 1, but a row must have a positive sum.
    """
    input = as_tensor_arg(input, "multinomial")
    weights = input._array
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got a tensor of shape {tuple(weights.shape)}")
    if weights.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype}")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (got num_samples={num_samples})")
    categories = weights.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"({num_samples} > {categories})")
    rows = np.atleast_2d(weights).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0) in row "
                           f"{int(np.argmax(totals[:, 0] <= 0))}")
    rng = _rng(generator)
    if replacement:
        cdf = np.cumsum(rows / totals, axis=1)
        cdf[:, -1] = 1.0  # rounding must not leave a draw past the last category
        u = _beside(rng.random((rows.shape[0], num_samples)), rows)
        samples = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        samples = np.minimum(samples, categories - 1)
        samples = np.where(rows[np.arange(rows.shape[0], like=rows)[:, None], samples] > 0, samples,
                           _last_positive(rows)[:, None])  # a zero-weight category is never drawn
    else:
        with np.errstate(divide="ignore"):
            keys = _beside(rng.exponential(size=rows.shape), rows) / rows  # zero weights: infinite keys, drawn last
        samples = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    samples = samples.astype(np.int64)
    result = samples[0] if weights.ndim == 1 else samples
    return write_out(Tensor._make(result, False), out, "multinomial")


def _last_positive(rows):
    return rows.shape[1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)


def poisson(input, generator=None):
    """Draws from Poisson(λ) with the rates λ = ``input`` elementwise (non-negative), in input's dtype."""
    input = as_tensor_arg(input, "poisson")
    rates = input._array
    if rates.size and (np.isnan(rates).any() or rates.min() < 0):
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    owner = backend.of(rates)  # NumPy's generator draws from host rates
    return Tensor._make(_beside(_rng(generator).poisson(owner.to_numpy(rates)).astype(rates.dtype), rates), False)


def _fill_draw(name, draw):
    """Tensor.``name``: fill the tensor in place with draws from soma's generator (no graph; a float dtype)."""
    def fill(tensor, *args, generator=None):
        return tensor._fill_random(name, lambda g: _beside(draw(g, tensor.shape, *args), tensor._array),
                                   _rng(generator))

    fill.__name__ = fill.__qualname__ = name
    return fill


def _positive(name, value, what):
    if not value > 0:
        raise RuntimeError(f"{name} expects {what} > 0.0, but found {what}={value}")
    return value


exponential_ = _fill_draw("exponential_", lambda g, shape, lambd=1.0: g.exponential(
    1.0 / _positive("exponential_", lambd, "lambda"), shape))
cauchy_ = _fill_draw("cauchy_", lambda g, shape, median=0.0, sigma=1.0: median + sigma * g.standard_cauchy(shape))
log_normal_ = _fill_draw("log_normal_", lambda g, shape, mean=1.0, std=2.0: g.lognormal(
    mean, _positive("log_normal_", std, "std"), shape))
geometric_ = _fill_draw("geometric_", lambda g, shape, p: g.geometric(p, shape))


def random_(tensor, from_=0, to=None, *, generator=None):
    """Fill with integers drawn uniformly from [from, to) (one argument: [0, to); none: [0, 2^mantissa])."""
    from soma.autograd.function import mark_dirty

    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is None:
        kind = tensor._array.dtype
        to = 2 ** (np.finfo(kind).nmant + 1) if kind.kind == "f" else (2 if kind == np.bool_ else np.iinfo(kind).max)
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
    tensor._array[...] = _beside(_rng(generator).integers(from_, to, tensor.shape), tensor._array)
    mark_dirty(tensor)
    return tensor

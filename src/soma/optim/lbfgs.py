"""L-BFGS: a quasi-Newton method that builds an inverse-Hessian estimate from the last few steps."""

from typing import Any

import numpy as np

from soma.autograd.function import enable_grad, mark_dirty, no_grad
from soma.nn.common_types import LossClosure, ParamsT
from soma.optim._functional import lr_of
from soma.optim.optimizer import Optimizer, check_range
from soma.tensor import Tensor

__all__ = ["LBFGS"]

_LIST_STATE = ("old_dirs", "old_stps", "ro", "al")


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clamped to ``bounds``
    (default: the interval between the points); the interval's middle when the cubic has no minimum."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    square = d1**2 - g1 * g2
    if square < 0:
        return (low + high) / 2.0
    d2 = np.sqrt(square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


class _Point:
    """One trial of the line search: step t, loss f, flat gradient g, directional derivative gᵀd."""

    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Line search along d for a step t meeting the strong Wolfe conditions (Nocedal & Wright, alg. 3.5-3.6):

    .. code-block:: text

        f(x + td) ≤ f(x) + c₁t·gᵀd            (sufficient decrease)
        |∇f(x + td)ᵀd| ≤ c₂|gᵀd|              (curvature)

    First bracket a step interval (growing t by cubic extrapolation), then zoom into it by
    cubic interpolation (safeguarded against steps too near the bracket's ends).
    ``evaluate(t)`` returns (loss, flat gradient) at x + td. Returns (f, g, t, evaluations).
    """
    search = _Line(evaluate, d, f, gtd, c1, c2)
    bracket, done = _bracket(search, _Point(0, f, g.copy(), gtd), t, g, max_ls)
    best = bracket[0] if done else _zoom(search, bracket, tolerance_change, max_ls)
    return best.f, best.g, best.t, search.evaluations


class _Line:
    """What the line search holds fixed (direction d, f(x), gᵀd, c₁, c₂) and its trials so far."""

    def __init__(self, evaluate, d, f, gtd, c1, c2):
        self.evaluate, self.d, self.f, self.gtd, self.c1, self.c2 = evaluate, d, f, gtd, c1, c2
        self.d_norm = np.abs(d).max()
        self.evaluations = 0

    @property
    def iterations(self):  # trials after the first
        return self.evaluations - 1

    def trial(self, t):
        f_new, g_new = self.evaluate(t)
        self.evaluations += 1
        return _Point(t, f_new, g_new, g_new.dot(self.d))

    def too_high(self, point):  # the sufficient decrease condition fails
        return point.f > self.f + self.c1 * point.t * self.gtd

    def flat_enough(self, point):  # the curvature condition holds
        return abs(point.gtd) <= -self.c2 * self.gtd


def _bracket(search, start, t, g, max_ls):
    """Grow the step by cubic extrapolation until [prev, new] must hold an acceptable step. Returns
    (bracket, done); done when a trial already meets both conditions (then the bracket is that trial)."""
    prev, new = start, search.trial(t)
    while search.iterations < max_ls:
        if search.too_high(new) or (search.iterations > 1 and new.f >= prev.f):
            return [prev, new], False
        if search.flat_enough(new):
            return [new], True
        if new.gtd >= 0:
            return [prev, new], False
        t_next = _cubic_minimum(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                                bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev, new = new, search.trial(t_next)
    return [_Point(0, search.f, g, None), new], False


def _zoom(search, bracket, tolerance_change, max_ls):
    """Shrink the bracket by safeguarded cubic interpolation until a trial meets both conditions (or the
    bracket is too narrow, or the trials run out); returns the best point."""
    insufficient = False
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    while search.iterations < max_ls:
        if abs(bracket[1].t - bracket[0].t) * search.d_norm < tolerance_change:
            break
        t, insufficient = _safeguarded_step(bracket, insufficient)
        new = search.trial(t)
        if search.too_high(new) or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
            continue
        done = search.flat_enough(new)
        if not done and new.gtd * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = new
        if done:
            break
    return bracket[low]


def _safeguarded_step(bracket, insufficient):
    """The cubic's minimiser in the bracket, moved 10% inside it when it falls too near an end twice
    in a row (or outside); returns (t, whether this step was too near an end)."""
    t = _cubic_minimum(bracket[0].t, bracket[0].f, bracket[0].gtd, bracket[1].t, bracket[1].f, bracket[1].gtd)
    lo_t, hi_t = min(bracket[0].t, bracket[1].t), max(bracket[0].t, bracket[1].t)
    margin = 0.1 * (hi_t - lo_t)
    if not min(hi_t - t, t - lo_t) < margin:  # (a NaN t is kept as it is)
        return t, False
    if insufficient or t >= hi_t or t <= lo_t:
        return (hi_t - margin if abs(t - hi_t) < abs(t - lo_t) else lo_t + margin), False
    return t, True


class LBFGS(Optimizer):
    r"""L-BFGS (Nocedal; the variant of Schmidt's minFunc, as in PyTorch). Each ``step(closure)``
    runs up to ``max_iter`` iterations; each iteration:

    .. code-block:: text

        sₖ = θₖ - θₖ₋₁,  yₖ = gₖ - gₖ₋₁       (kept when yᵀs > 1e-10, the last history_size pairs)
        d = -H gₖ  by the two-loop recursion, H₀ = (yᵀs / yᵀy)·I
        t = η (the first iteration: min(1, 1/‖g‖₁)·η), or a strong-Wolfe line search from it
        θ ← θ + t·d

    and stops early when max|g| ≤ tolerance_grad, when a step or a loss change is below
    tolerance_change, or after ``max_eval`` loss evaluations. The closure must clear the
    gradients, compute the loss, call ``backward()`` and return the loss.

    Args:
        params: the parameters (one group only).
        lr: η (1).
        max_iter: iterations per ``step`` (20).
        max_eval: loss evaluations per ``step`` (max_iter·5/4).
        tolerance_grad: first-order optimality tolerance (1e-7).
        tolerance_change: tolerance on loss and parameter changes (1e-9).
        history_size: pairs (s, y) kept (100).
        line_search_fn: None or ``"strong_wolfe"``.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        check_range("learning rate", lr, owner="LBFGS")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ------------------------------------------------------------ flat views
    def _flat_grad(self):
        return np.concatenate([
            np.zeros(p._array.size, p.dtype, like=p._array) if p.grad is None else p.grad._array.reshape(-1)
            for p in self._params
        ])

    def _add(self, step, direction):
        offset = 0
        for param in self._params:
            p = param._array
            p += step * direction[offset:offset + p.size].reshape(p.shape)
            offset += p.size
        mark_dirty(*self._params)

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return loss, float(loss)

    def _evaluate_along(self, closure, start, direction):
        """The function ``t ↦ (loss, flat grad)`` at start + t·direction, which leaves θ at ``start``."""
        def evaluate(t):
            self._add(t, direction)
            _, loss = self._evaluate(closure)
            grad = self._flat_grad()
            for param, saved in zip(self._params, start):
                param._array[...] = saved
            mark_dirty(*self._params)
            return loss, grad
        return evaluate

    # ------------------------------------------------------------ the step
    def _direction(self, state, flat_grad, history_size):
        """The quasi-Newton direction -H·g (two-loop recursion), after adding the newest (s, y) pair."""
        if state["n_iter"] == 1:
            state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            return -flat_grad
        y = flat_grad - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = y.dot(s)
        dirs, steps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        if ys > 1e-10:
            if len(dirs) == history_size:
                del dirs[0], steps[0], ro[0]
            dirs.append(y)
            steps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)
        al = state.setdefault("al", [None] * history_size)
        q = -flat_grad
        for i in range(len(dirs) - 1, -1, -1):
            al[i] = steps[i].dot(q) * ro[i]
            q -= al[i] * dirs[i]
        r = q * state["H_diag"]
        for i in range(len(dirs)):
            r += (al[i] - dirs[i].dot(r) * ro[i]) * steps[i]
        return r

    def step(self, closure: LossClosure) -> Any:  # type: ignore[override]  # LBFGS needs a closure
        group = self.param_groups[0]
        lr, max_iter, max_eval = lr_of(group), group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with no_grad():
            orig_loss, loss = self._evaluate(closure)
            evals = 1
            state["func_evals"] += 1
            flat_grad = self._flat_grad()
            if np.abs(flat_grad).max() <= tol_grad:
                return orig_loss
            for n_iter in range(1, max_iter + 1):
                state["n_iter"] += 1
                d = self._direction(state, flat_grad, group["history_size"])
                state["prev_flat_grad"] = flat_grad.copy()
                state["prev_loss"] = prev_loss = loss
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
                gtd = flat_grad.dot(d)
                state["d"], state["t"] = d, t
                if gtd > -tol_change:
                    break
                used = 0
                if group["line_search_fn"] == "strong_wolfe":
                    start = [p._array.copy() for p in self._params]
                    loss, flat_grad, t, used = strong_wolfe(self._evaluate_along(closure, start, d), t, d, loss,
                                                            flat_grad, gtd, max_ls=max_eval - evals)
                    state["t"] = t
                    self._add(t, d)
                    converged = np.abs(flat_grad).max() <= tol_grad
                else:
                    self._add(t, d)
                    converged = False
                    if n_iter != max_iter:
                        _, loss = self._evaluate(closure)
                        flat_grad = self._flat_grad()
                        converged = np.abs(flat_grad).max() <= tol_grad
                        used = 1
                evals += used
                state["func_evals"] += used
                if (n_iter == max_iter or evals >= max_eval or converged
                        or np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change):
                    break
        return orig_loss

    # ------------------------------------------------------------ state dict
    def state_dict(self):
        """PyTorch's layout: ``{"state": {0: {...}}}`` with ints as ints and lists of tensors."""
        saved = super().state_dict()
        own = self.state.get(self._params[0])
        if own:
            saved["state"] = {0: {key: _to_tensor(value) for key, value in own.items()}}
        return saved

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        own = self.state.get(self._params[0])
        if own:
            loaded = state_dict["state"]
            raw = loaded.get(0, loaded.get("0", {}))
            self.state[self._params[0]] = {key: _to_array(value) for key, value in raw.items()}


def _to_tensor(value):
    if isinstance(value, np.ndarray):
        return Tensor._make(value.copy(), False)
    if isinstance(value, list):
        return [_to_tensor(v) for v in value]
    return value


def _to_array(value):
    if isinstance(value, list):
        return [_to_array(v) for v in value]
    if isinstance(value, Tensor) or hasattr(value, "__array__"):
        array = np.array(value._array if isinstance(value, Tensor) else value)
        return array if array.ndim else array.item()
    return value

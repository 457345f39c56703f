"""Differential fuzz of the tensor ops: every case runs in soma and in PyTorch, and must agree.

Inputs are drawn by hypothesis (derandomized, bounded example counts): every dtype, shapes
with 0 and 1 sizes, broadcasting and non-broadcasting partners, 0-d tensors, Python and
NumPy scalars, non-contiguous views, NaN and Inf. A case agrees when both raise (the same
exception type), or both return results of the same shape, dtype and values, with the same
input gradients for differentiable float ops. ``make fuzz`` prints the tally.
"""

import math
import warnings

import numpy as np
import pytest
import torch
from fuzz_common import record
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import soma

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
SHAPES = [(), (0,), (1,), (3,), (2, 3), (0, 3), (3, 1), (2, 1, 3), (1, 3)]
ERRORS = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError, ZeroDivisionError, OverflowError)


def _array(draw, dtype, shape, special=True):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype == "uint8":
        return np.asarray(rng.integers(0, 12, shape), dtype=np.uint8)
    if dtype.startswith("int"):
        return np.asarray(rng.integers(-6, 7, shape), dtype=dtype)
    values = np.asarray(rng.standard_normal(shape) * 2, dtype=dtype)
    if special and values.size and draw(st.booleans()):
        flat = values.reshape(-1)
        flat[rng.integers(0, flat.size)] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5]))
    return values


@st.composite
def tensor_input(draw, dtypes=DTYPES, shapes=SHAPES, special=True):
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(st.sampled_from(shapes))
    transpose = len(shape) >= 2 and draw(st.booleans())
    base = _array(draw, dtype, shape[::-1] if transpose else shape, special)
    return ("tensor", base, transpose)


def partner_shapes(shape):
    options = [shape, shape[1:], (1,) * len(shape), tuple(1 if i == 0 else s for i, s in enumerate(shape)), (4,),
               (2, 1) + shape[-1:]]
    return [s for s in options]


@st.composite
def scalar_input(draw):
    kind = draw(st.sampled_from(["bool", "int", "float", "np.float64", "np.float32", "np.int64", "big"]))
    value = {
        "bool": draw(st.booleans()),
        "int": draw(st.integers(-5, 5)),
        "float": draw(st.sampled_from([2.5, -0.5, 0.0, float("nan"), float("inf"), 1e-3])),
        "np.float64": np.float64(draw(st.sampled_from([1.5, -2.0]))),
        "np.float32": np.float32(draw(st.sampled_from([1.5, -2.0]))),
        "np.int64": np.int64(draw(st.integers(-3, 3))),
        "big": draw(st.sampled_from([300, -129, 2**31])),
    }[kind]
    return ("scalar", value, False)


@st.composite
def binary_inputs(draw, dtypes=DTYPES):
    first = draw(tensor_input(dtypes))
    shape = first[1].shape[::-1] if first[2] else first[1].shape
    choice = draw(st.sampled_from(["tensor", "tensor", "zero-d", "scalar"]))
    if choice == "scalar":
        second = draw(scalar_input())
    else:
        other_shape = () if choice == "zero-d" else draw(st.sampled_from(partner_shapes(shape)))
        second = draw(tensor_input(dtypes, [other_shape]))
    return [second, first] if draw(st.booleans()) and choice != "scalar" else [first, second]


def _make(library, spec, requires_grad):
    kind, value, transpose = spec
    if kind == "scalar":
        return value
    if library is torch:
        t = torch.from_numpy(value.copy())
        t = t.T if transpose and t.ndim == 2 else t.transpose(0, -1) if transpose else t
    else:
        t = soma.tensor(value.copy())
        t = t.T if transpose and t.ndim == 2 else t.transpose(0, -1) if transpose else t
    if requires_grad and value.dtype.kind == "f":
        array = t.detach().numpy().copy()
        t = soma.tensor(array, requires_grad=True) if library is soma else torch.tensor(array, requires_grad=True)
    return t


def _to_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, soma.Tensor):
        return np.asarray(value.detach().numpy())
    return value


def _tolerance(dtype):
    return {np.float16: (2e-2, 1e-2), np.float32: (2e-5, 1e-6)}.get(np.dtype(dtype).type, (1e-10, 1e-12))


def _same(name, s, t, where):
    if isinstance(t, (tuple, list)):
        if not isinstance(s, (tuple, list)) or len(s) != len(t):
            return f"{name}: {where} soma returned {type(s).__name__}, torch {type(t).__name__}"
        for a, b in zip(s, t):
            problem = _same(name, a, b, where)
            if problem:
                return problem
        return None
    if isinstance(t, torch.Tensor):
        if not isinstance(s, soma.Tensor):
            return f"{name}: {where} soma returned {type(s).__name__}, not a Tensor"
        sa, ta = np.asarray(s.detach().numpy()), t.detach().numpy()
        if not isinstance(s._array, np.ndarray):
            return f"{name}: {where} soma's array is a {type(s._array).__name__}, not an ndarray"
        if sa.dtype != ta.dtype:
            return f"{name}: {where} dtype soma {sa.dtype} vs torch {ta.dtype}"
        if sa.shape != ta.shape:
            return f"{name}: {where} shape soma {sa.shape} vs torch {ta.shape}"
        if sa.dtype.kind in "fc":
            rtol, atol = _tolerance(sa.dtype)
            if not np.allclose(sa, ta, rtol=rtol, atol=atol, equal_nan=True):
                return f"{name}: {where} values differ: soma {sa.ravel()[:6]} vs torch {ta.ravel()[:6]}"
        elif not np.array_equal(sa, ta):
            return f"{name}: {where} values differ: soma {sa.ravel()[:6]} vs torch {ta.ravel()[:6]}"
        return None
    if s != t and not (isinstance(t, float) and math.isnan(t) and math.isnan(s)):
        return f"{name}: {where} soma {s!r} vs torch {t!r}"
    return None


def run_case(name, soma_fn, torch_fn, specs, grad=True):
    """Run one case in both libraries; return a description of the disagreement, or None."""
    wants_grad = grad and all(s[0] == "scalar" or s[1].dtype.kind == "f" for s in specs)
    t_in = [_make(torch, s, wants_grad) for s in specs]
    s_in = [_make(soma, s, wants_grad) for s in specs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t_out, t_error = torch_fn(*t_in), None
        except Exception as error:  # noqa: BLE001  (the oracle's any error is the reference)
            t_out, t_error = None, error
        try:
            with np.errstate(all="ignore"):
                s_out, s_error = soma_fn(*s_in), None
        except ERRORS as error:
            s_out, s_error = None, error
        except Exception as error:  # noqa: BLE001
            return f"{name}: soma raised an unexpected {type(error).__name__}: {error}"
    where = _describe(specs)
    if t_error is not None or s_error is not None:
        if t_error is None:
            return f"{name}: {where} soma raised {type(s_error).__name__}({s_error}) but torch returned"
        if s_error is None:
            return f"{name}: {where} torch raised {type(t_error).__name__}({t_error}) but soma returned"
        if not isinstance(s_error, type(t_error)) and not isinstance(t_error, type(s_error)):
            return f"{name}: {where} soma raised {type(s_error).__name__}, torch {type(t_error).__name__}: {t_error}"
        return None
    problem = _same(name, s_out, t_out, where)
    if problem or not wants_grad:
        return problem
    return _compare_grads(name, s_in, t_in, s_out, t_out, where)


def _compare_grads(name, s_in, t_in, s_out, t_out, where):
    if isinstance(t_out, (tuple, list)):
        t_out, s_out = t_out[0], s_out[0]
    if not isinstance(t_out, torch.Tensor) or not t_out.requires_grad:
        if isinstance(s_out, soma.Tensor) and s_out.requires_grad and t_out is not None:
            return f"{name}: {where} soma's result requires grad, torch's does not"
        return None
    if not s_out.requires_grad:
        return f"{name}: {where} torch's result requires grad, soma's does not"
    g = np.random.default_rng(0).standard_normal(t_out.shape).astype(t_out.detach().numpy().dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            (t_out * torch.from_numpy(g)).sum().backward()
        except RuntimeError:
            return None
        with np.errstate(all="ignore"):
            try:
                (s_out * soma.tensor(g)).sum().backward()
            except ERRORS as error:
                return f"{name}: {where} soma's backward raised {type(error).__name__}: {error}"
    for i, (s, t) in enumerate(zip(s_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            tg, sg = t.grad, s.grad
            if tg is None and sg is None:
                continue
            if tg is None or sg is None:
                missing = "soma" if sg is None else "torch"
                if missing == "soma" or not np.all(_to_numpy(sg) == 0):
                    return f"{name}: {where} gradient of input {i} is None in {missing} only"
                continue
            problem = _same(name, sg, tg, f"{where} grad of input {i}:")
            if problem:
                return problem
    return None


def _describe(specs):
    parts = []
    for kind, value, transpose in specs:
        if kind == "scalar":
            parts.append(f"{type(value).__name__}({value!r})")
        else:
            shape = value.shape[::-1] if transpose else value.shape
            parts.append(f"{value.dtype}{list(shape)}{'ᵀ' if transpose else ''}")
    return "(" + ", ".join(parts) + ")"


def check(name, soma_fn, torch_fn, specs, grad=True):
    problem = record("op", run_case(name, soma_fn, torch_fn, specs, grad))
    assert problem is None, problem


def _methods(name):
    return (lambda *a: getattr(soma, name)(*a)), (lambda *a: getattr(torch, name)(*a))


UNARY = [
    "abs", "neg", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu",
    "square", "reciprocal", "sign", "floor", "ceil", "round", "trunc", "frac", "isnan", "isinf", "isfinite",
    "logical_not", "bitwise_not", "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "all",
    "any", "norm", "var", "std", "t", "flatten", "clone", "signbit",
]
UNARY_DIM = ["sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "prod", "logsumexp", "cumsum",
             "softmax", "log_softmax", "all", "any", "var", "std", "norm", "squeeze", "unsqueeze", "flatten",
             "unbind"]
BINARY = [
    "add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
    "bitwise_xor", "matmul",
]
OPERATORS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b, "**": lambda a, b: a**b, "==": lambda a, b: a == b,
    "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "&": lambda a, b: a & b, "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b, "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
}
SETTINGS = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])


@pytest.mark.parametrize("name", UNARY)
@SETTINGS
@given(spec=tensor_input())
def test_unary(name, spec):
    check(name, *_methods(name), [spec])


@pytest.mark.parametrize("name", UNARY_DIM)
@SETTINGS
@given(spec=tensor_input(), dim=st.sampled_from([0, -1, 1, 2, -3]), keepdim=st.booleans())
def test_unary_with_dim(name, spec, dim, keepdim):
    if name in ("softmax", "log_softmax", "cumsum", "squeeze", "unsqueeze", "unbind"):
        fs = lambda x: getattr(soma, name)(x, dim)  # noqa: E731
        ft = lambda x: getattr(torch, name)(x, dim)  # noqa: E731
    elif name == "flatten":
        fs = lambda x: soma.flatten(x, dim)  # noqa: E731
        ft = lambda x: torch.flatten(x, dim)  # noqa: E731
    elif name == "norm":
        fs = lambda x: soma.norm(x, dim=dim, keepdim=keepdim)  # noqa: E731
        ft = lambda x: torch.norm(x, dim=dim, keepdim=keepdim)  # noqa: E731
    else:
        fs = lambda x: getattr(soma, name)(x, dim, keepdim)  # noqa: E731
        ft = lambda x: getattr(torch, name)(x, dim, keepdim)  # noqa: E731
    check(f"{name}(dim={dim}, keepdim={keepdim})", fs, ft, [spec])


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(specs=binary_inputs())
def test_binary(name, specs):
    check(name, *_methods(name), specs)


@pytest.mark.parametrize("symbol", list(OPERATORS))
@SETTINGS
@given(specs=binary_inputs())
def test_operator(symbol, specs):
    check(f"a {symbol} b", OPERATORS[symbol], OPERATORS[symbol], specs)


@SETTINGS
@given(specs=binary_inputs(), mask=tensor_input(["bool", "int64"], [(), (3,), (2, 3), (1, 3)]))
def test_where(specs, mask):
    check("where", lambda c, a, b: soma.where(c, a, b), lambda c, a, b: torch.where(c, a, b), [mask, *specs])


@SETTINGS
@given(spec=tensor_input(), mask=tensor_input(["bool", "int64"], [(), (3,), (2, 3)]),
       value=st.sampled_from([1.5, 2, True, float("nan")]))
def test_masked_fill(spec, mask, value):
    check("masked_fill", lambda x, m: x.masked_fill(m, value), lambda x, m: x.masked_fill(m, value), [spec, mask])


@SETTINGS
@given(spec=tensor_input(["float32", "float64", "int64"]), low=st.sampled_from([None, -1, 0.5, -1.5]),
       high=st.sampled_from([None, 1, 0.25, 2.0]))
def test_clamp(spec, low, high):
    check("clamp", lambda x: soma.clamp(x, low, high), lambda x: torch.clamp(x, low, high), [spec])


@SETTINGS
@given(spec=tensor_input(), other=st.one_of(scalar_input(), tensor_input(shapes=[(), (3,), (2, 3)])),
       op=st.sampled_from(["add_", "sub_", "mul_", "div_", "clamp_", "fill_", "copy_", "zero_", "pow_"]))
def test_inplace(spec, other, op):
    def call(x, y, library):
        x = x.detach().clone() if hasattr(x, "detach") else x
        if op == "zero_":
            return x.zero_()
        if op == "clamp_":
            return x.clamp_(-1, 1)
        if op == "copy_" and not isinstance(y, (torch.Tensor, soma.Tensor)):
            y = library.tensor(y)
        if op == "fill_" and isinstance(y, (torch.Tensor, soma.Tensor)) and y.ndim:
            y = y.reshape(-1)[0] if y.numel() else y
        return getattr(x, op)(y)

    check(op, lambda x, y: call(x, y, soma), lambda x, y: call(x, y, torch), [spec, other], grad=False)


@SETTINGS
@given(data=st.data())
def test_factories(data):
    name = data.draw(st.sampled_from(["zeros", "ones", "full", "arange", "linspace", "eye", "tensor", "empty"]))
    dtype = data.draw(st.sampled_from([None, "float64", "int64", "int8", "uint8", "bool"]))
    sdtype, tdtype = (None, None) if dtype is None else (getattr(soma, dtype), getattr(torch, dtype))
    if name in ("zeros", "ones", "empty"):
        size = data.draw(st.sampled_from([(2, 3), (0,), (-1,), (), (2.5,)]))
        fs, ft = (lambda: getattr(soma, name)(*size, dtype=sdtype)), (lambda: getattr(torch, name)(*size, dtype=tdtype))
        if name == "empty":  # uninitialized in PyTorch: compare shape and dtype only
            fs2, ft2 = fs, ft
            fs, ft = (lambda: soma.zeros_like(fs2())), (lambda: torch.zeros_like(ft2()))
    elif name == "full":
        value = data.draw(st.sampled_from([1, 2.5, True, 300, -1]))
        fs, ft = (lambda: soma.full((2,), value, dtype=sdtype)), (lambda: torch.full((2,), value, dtype=tdtype))
    elif name == "arange":
        args = data.draw(st.sampled_from([(5,), (1, 4), (0, 1, 0.25), (3, 0, -1), (0, 5, 0), (5, 0), (0.5, 2.5)]))
        fs, ft = (lambda: soma.arange(*args, dtype=sdtype)), (lambda: torch.arange(*args, dtype=tdtype))
    elif name == "linspace":
        steps = data.draw(st.sampled_from([0, 1, 5, -1]))
        fs, ft = (lambda: soma.linspace(0, 1, steps, dtype=sdtype)), (lambda: torch.linspace(0, 1, steps, dtype=tdtype))
    elif name == "eye":
        n, m = data.draw(st.sampled_from([(3, None), (2, 4), (0, None), (-1, None)]))
        fs, ft = (lambda: soma.eye(n, m, dtype=sdtype)), (lambda: torch.eye(n, m, dtype=tdtype) if m is not None
                                                          else torch.eye(n, dtype=tdtype))
    else:
        value = data.draw(st.sampled_from([[1, 2], [1.5, 2], [True, False], 3, 2.5, [[1, 2], [3]], [], 300, -1,
                                           [1, 2**63]]))
        fs, ft = (lambda: soma.tensor(value, dtype=sdtype)), (lambda: torch.tensor(value, dtype=tdtype))
    check(f"{name}(dtype={dtype})", lambda: fs(), lambda: ft(), [], grad=False)


@SETTINGS
@given(spec=tensor_input(shapes=[(3,), (2, 3), (2, 1, 3), ()]), data=st.data())
def test_shape_ops(spec, data):
    shape = spec[1].shape[::-1] if spec[2] else spec[1].shape
    op = data.draw(st.sampled_from(["reshape", "view", "permute", "transpose", "expand", "narrow", "split", "chunk",
                                    "gather", "index_select", "repeat", "flip", "getitem", "cat", "stack"]))
    n = len(shape)
    dim = data.draw(st.integers(-n - 1, n))
    if op in ("reshape", "view"):
        target = data.draw(st.sampled_from([(-1,), (3, -1), (1, -1, 1), (6,), (-1, -1)]))
        f = lambda lib: lambda x: getattr(x, op)(*target)  # noqa: E731
    elif op == "permute":
        order = data.draw(st.permutations(range(n))) if n else []
        f = lambda lib: lambda x: x.permute(*order)  # noqa: E731
    elif op == "transpose":
        f = lambda lib: lambda x: x.transpose(dim, -1)  # noqa: E731
    elif op == "expand":
        target = data.draw(st.sampled_from([(2, 3), (4, 2, 3), (-1,), (2, -1, 3)]))
        f = lambda lib: lambda x: x.expand(*target)  # noqa: E731
    elif op == "narrow":
        start, length = data.draw(st.integers(-4, 3)), data.draw(st.integers(0, 3))
        f = lambda lib: lambda x: x.narrow(dim, start, length)  # noqa: E731
    elif op in ("split", "chunk"):
        size = data.draw(st.sampled_from([1, 2, 0, [1, 2], [3]]))
        f = lambda lib: lambda x: getattr(x, op)(size, dim)  # noqa: E731
        if op == "chunk" and isinstance(size, list):
            return
    elif op in ("gather", "index_select"):
        index = data.draw(st.sampled_from([[0, 1], [-1], [3], [[0], [1]], [[0, 0, 1], [1, 2, 0]]]))
        f = lambda lib: lambda x: getattr(x, op)(dim, lib.tensor(index))  # noqa: E731
    elif op == "repeat":
        reps = data.draw(st.sampled_from([(2,), (2, 1), (1, 2, 2), (0, 1)]))
        f = lambda lib: lambda x: x.repeat(*reps)  # noqa: E731
    elif op == "flip":
        f = lambda lib: lambda x: x.flip([dim])  # noqa: E731
    elif op == "getitem":
        index = data.draw(st.sampled_from([0, -1, 5, slice(None, None, 2), (Ellipsis, 0), (None, 0), [0, 0],
                                           (slice(1, None), 0)]))
        f = lambda lib: lambda x: x[index]  # noqa: E731
    else:
        f = lambda lib: lambda x: getattr(lib, op)([x, x], dim)  # noqa: E731
    check(op, f(soma), f(torch), [spec])

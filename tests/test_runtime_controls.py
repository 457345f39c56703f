"""soma's process-wide controls against PyTorch's: threads, determinism, precision, warnings, anomaly,
inference mode, compile, finfo/iinfo, is_complex/is_same_size/typename, and set_printoptions in repr."""

import numpy as np
import pytest
import torch
from tests.helpers import raises_like_torch

import soma
from soma import _printing, _runtime

FLOATS = ["float16", "float32", "float64", "complex64", "complex128"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.fixture(autouse=True)
def _restore_state():
    state, options, anomaly = dict(_runtime._STATE), _printing.get_printoptions(), soma.is_anomaly_enabled()
    threads = soma.get_num_threads()
    yield
    _runtime._STATE.update(state)
    _printing._OPTIONS.update(options)
    soma.set_anomaly_enabled(anomaly)
    soma.set_num_threads(threads)


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    mine, theirs = soma.finfo(getattr(soma, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(mine, field) == getattr(theirs, field), field
        assert type(getattr(mine, field)) is type(getattr(theirs, field)), field


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    mine, theirs = soma.iinfo(getattr(soma, name)), torch.iinfo(getattr(torch, name))
    assert (mine.bits, mine.max, mine.min, mine.dtype) == (theirs.bits, theirs.max, theirs.min, theirs.dtype)
    assert "max=255" in repr(soma.iinfo(soma.uint8)) and "dtype=float32" in repr(soma.finfo())


def test_info_of_python_types_default_dtype_and_bad_types():
    assert soma.finfo(float).dtype == torch.finfo(float).dtype == "float64"
    assert soma.iinfo(int).dtype == torch.iinfo(int).dtype == "int64"
    assert soma.finfo().dtype == torch.finfo().dtype
    for bad in ("int32", "bool"):
        raises_like_torch(lambda lib, bad=bad: lib.finfo(getattr(lib, bad)))
    for bad in ("float32", "bool"):
        raises_like_torch(lambda lib, bad=bad: lib.iinfo(getattr(lib, bad)))
    raises_like_torch(lambda lib: lib.iinfo(bool))


def test_num_threads_reach_blas_and_refuse_bad_counts():
    soma.set_num_threads(1)
    assert soma.get_num_threads() == 1
    controller = _runtime.blas_controller()
    if controller is not None:  # threadpoolctl is in the dev extra: BLAS itself now runs one thread
        assert all(lib.num_threads == 1 for lib in controller.select(user_api="blas").lib_controllers)
    soma.set_num_interop_threads(3)
    assert soma.get_num_interop_threads() == 3
    for bad in (0, -2, 2.0):
        raises_like_torch(lambda lib, bad=bad: lib.set_num_threads(bad))
    raises_like_torch(lambda lib: lib.set_num_interop_threads(0))


def test_flags_store_and_check_like_torch():
    soma.use_deterministic_algorithms(True, warn_only=True)
    assert soma.are_deterministic_algorithms_enabled() and soma.is_deterministic_algorithms_warn_only_enabled()
    soma.use_deterministic_algorithms(False)
    assert not soma.are_deterministic_algorithms_enabled() and not soma.is_deterministic_algorithms_warn_only_enabled()
    with pytest.raises(TypeError):  # as torch's (whose first call takes seconds: it loads its compiler)
        soma.use_deterministic_algorithms(1)
    assert soma.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    soma.set_float32_matmul_precision("medium")
    assert soma.get_float32_matmul_precision() == "medium"
    with pytest.warns(UserWarning, match="no effect"):
        soma.set_float32_matmul_precision("fastest")
    assert soma.get_float32_matmul_precision() == "medium"
    assert soma.set_flush_denormal(True) is False and soma.set_flush_denormal(False) is False
    raises_like_torch(lambda lib: lib.set_flush_denormal(1))
    soma.set_warn_always(True)
    assert soma.is_warn_always_enabled()
    raises_like_torch(lambda lib: lib.set_warn_always(1))


def test_set_anomaly_enabled_drives_detect_anomaly():
    soma.set_anomaly_enabled(True)
    assert soma.is_anomaly_enabled() and soma.autograd.is_anomaly_enabled()
    x = soma.tensor([-1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="nan"):
        x.sqrt()
    soma.set_anomaly_enabled(False)
    assert not soma.is_anomaly_enabled()
    raises_like_torch(lambda lib: lib.set_anomaly_enabled(1))


def test_inference_mode_as_context_and_decorator():
    x = soma.ones(2, requires_grad=True)
    with soma.inference_mode():
        assert soma.is_inference_mode_enabled() and not soma.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not soma.is_inference_mode_enabled() and soma.is_grad_enabled()
    with soma.inference_mode(False):
        assert (x * 2).requires_grad and not soma.is_inference_mode_enabled()

    @soma.inference_mode()
    def double(t):
        return t * 2

    @soma.inference_mode
    def triple(t):
        return t * 3

    assert not double(x).requires_grad and not triple(x).requires_grad and soma.is_grad_enabled()
    assert double.__name__ == "double" and x.is_inference() is False


def test_compile_returns_what_it_was_given():
    model = soma.nn.Linear(2, 3)
    assert soma.compile(model) is model
    assert soma.compile(model, mode="max-autotune", fullgraph=True, dynamic=False, backend="eager") is model

    @soma.compile(fullgraph=True)
    def f(t):
        return t + 1

    assert f(soma.zeros(1)).item() == 1.0


def test_is_complex_is_same_size_typename():
    for dtype in ("float32", "complex64", "int64"):
        assert soma.is_complex(soma.zeros(2, dtype=getattr(soma, dtype))) == torch.is_complex(
            torch.zeros(2, dtype=getattr(torch, dtype)))
    raises_like_torch(lambda lib: lib.is_complex(3))
    assert soma.is_same_size(soma.zeros(2, 3), soma.ones(2, 3)) and not soma.is_same_size(soma.zeros(2), soma.zeros(3))
    raises_like_torch(lambda lib: lib.is_same_size(lib.zeros(2), 3))
    for dtype in ("float32", "float64", "int64", "bool", "uint8"):
        theirs = torch.typename(torch.zeros(2, dtype=getattr(torch, dtype)))
        assert soma.typename(soma.zeros(2, dtype=getattr(soma, dtype))) == theirs.replace("torch.", "soma.")
    assert soma.typename(3) == torch.typename(3) == "int" and soma.typename([1]) == "list"
    assert soma.typename(soma.nn.Linear(1, 1)).endswith(".Linear")


def test_printoptions_precision_sci_mode_and_profile():
    x = soma.tensor([1.23456789, -2.5, 1000.0])
    soma.set_printoptions(precision=2)
    assert "1.23," in repr(x) and "1.2346" not in repr(x)
    soma.set_printoptions(sci_mode=True, precision=3)
    assert "1.235e+00" in repr(x) and "1.000e+03" in repr(x)
    soma.set_printoptions(sci_mode=False, precision=4)
    assert "e+" not in repr(soma.tensor([1e-6, 1e6]))
    soma.set_printoptions(profile="default")
    assert "1.2346" in repr(x)
    with pytest.raises(ValueError, match="profile"):
        soma.set_printoptions(profile="long")


@pytest.mark.parametrize("options", [{"threshold": 10, "edgeitems": 2}, {"profile": "short"},
                                     {"profile": "full"}, {"profile": "default", "linewidth": 30}])
def test_printoptions_threshold_edgeitems_linewidth_as_torch(options):
    try:
        torch.set_printoptions(**options)
        soma.set_printoptions(**options)
        summarized = options.get("profile") != "full"  # (a wrapped line breaks where NumPy breaks it, not PyTorch)
        wide = summarized and "linewidth" not in options
        for shape in ((20,), (4, 5)) + (((2000,), (30, 40)) if wide else ()):
            n = int(np.prod(shape))
            assert repr(soma.arange(n).reshape(shape)) == repr(torch.arange(n).reshape(shape)), shape
        lines = repr(soma.arange(2000.0).reshape(50, 40)).splitlines()
        assert max(map(len, lines)) <= options.get("linewidth", 80) and ("..." in repr(lines)) == summarized
    finally:
        torch.set_printoptions(profile="default")
    assert np.get_printoptions()["precision"] == 8  # NumPy's own options are left alone


def _program(torch):
    """A PyTorch program's setup and evaluation lines, run unchanged with ``torch`` being either library."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.set_float32_matmul_precision("high")  # (not torch.compile: loading torch's compiler takes seconds)
    model = torch.nn.Linear(3, 2)
    eps = torch.finfo(torch.float32).eps
    with torch.inference_mode():
        x = torch.linspace(0.0, 1.0, 12).reshape(4, 3)
        window = torch.hann_window(4)
        y = torch.relu_(torch.conv1d(x.T.unsqueeze(0), x.reshape(4, 3, 1)[:2] - 0.5, None, 1))
    torch.set_float32_matmul_precision("highest")
    return model.in_features, eps, torch.is_inference_mode_enabled(), y.requires_grad, window, y


def test_a_torch_program_runs_unchanged():
    threads = torch.get_num_threads()
    try:
        theirs = _program(torch)
    finally:
        torch.set_num_threads(threads)
    mine = _program(soma)
    assert mine[:4] == theirs[:4]
    for m, t in zip(mine[4:], theirs[4:]):
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-6)

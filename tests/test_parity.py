"""PyTorch's tensor semantics: devices, default dtype, type promotion, 0-d results, .data, in-place rules.

Each test is a behaviour a PyTorch program relies on, checked against torch itself
where torch can answer.
"""

import itertools

import numpy as np
import pytest
import torch

import soma
from soma import nn

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


# ------------------------------------------------------------------------------ devices
def test_device_objects_behave_as_torch_device():
    for spec in ["cpu", "cuda", "cuda:1", "mps"]:
        s, t = soma.device(spec), torch.device(spec)
        assert (str(s), repr(s), s.type, s.index) == (str(t), repr(t), t.type, t.index)
    assert soma.device("cuda", 1) == soma.device("cuda:1") == "cuda:1"
    assert soma.device("cpu") != soma.device("cpu:0")
    assert len({soma.device("cpu"), soma.device("cpu")}) == 1
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        soma.device("gpu")


def test_tensor_device_and_factories_accept_device():
    for factory in (
        lambda d: soma.tensor([1.0], device=d), lambda d: soma.zeros(2, device=d), lambda d: soma.ones(2, device=d),
        lambda d: soma.full((2,), 1.0, device=d), lambda d: soma.empty(2, device=d), lambda d: soma.arange(3, device=d),
        lambda d: soma.linspace(0, 1, 3, device=d), lambda d: soma.eye(2, device=d), lambda d: soma.rand(2, device=d),
        lambda d: soma.randn(2, device=d), lambda d: soma.randint(0, 3, (2,), device=d),
        lambda d: soma.zeros_like(soma.ones(2), device=d), lambda d: soma.randn_like(soma.ones(2), device=d),
    ):
        t = factory("cpu")
        assert t.device == soma.device("cpu") and t.device.type == "cpu" and str(t.device) == "cpu"
        assert factory(soma.device("cpu")).is_cpu
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            factory("cuda")


def test_cuda_and_accelerator_queries_say_there_is_no_gpu():
    assert soma.cuda.is_available() is False and soma.cuda.device_count() == 0
    assert soma.accelerator.is_available() is False and soma.accelerator.current_accelerator() is None
    assert soma.backends.mps.is_available() is False
    soma.cuda.manual_seed_all(0)  # accepted, as in PyTorch
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        soma.cuda.current_device()
    device = soma.device("cuda" if soma.cuda.is_available() else "cpu")  # the idiom every tutorial uses
    assert soma.ones(2).to(device).device == device


def test_to_and_cpu_for_tensors_and_modules():
    x = soma.ones(3)
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", soma.float64).dtype == soma.float64
    assert x.to(soma.zeros(1, dtype=soma.int64)).dtype == soma.int64
    assert x.to(dtype=soma.float16).dtype == soma.float16
    assert x.to(copy=True) is not x
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        x.cuda()
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.to("cpu") is model and model.cpu() is model
    model.to(soma.device("cpu"), soma.float64)
    assert model[0].weight.dtype == soma.float64 and model[1].num_batches_tracked.dtype == soma.int64
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        model.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        model.to(soma.int64)


def test_default_device_and_dtype():
    try:
        soma.set_default_dtype(soma.float64)
        assert soma.get_default_dtype() == soma.float64
        assert soma.tensor(1.5).dtype == soma.zeros(2).dtype == soma.randn(2).dtype == soma.float64
        assert (soma.tensor([1, 2]) / soma.tensor([2, 2])).dtype == soma.float64
        assert (soma.tensor([1, 2]) * 1.5).dtype == soma.float64
    finally:
        soma.set_default_dtype(soma.float32)
    assert soma.tensor(1.5).dtype == soma.float32
    with pytest.raises(TypeError, match="floating-point"):
        soma.set_default_dtype(soma.int64)
    soma.set_default_device("cpu")
    assert soma.get_default_device() == "cpu"
    with pytest.raises(RuntimeError, match="CUDA"):
        soma.set_default_device("cuda")


# ---------------------------------------------------------------------------- promotion
def _operand(library, dtype, kind):
    if kind == "scalar":
        return {"bool": True, "float16": 2.5, "float32": 2.5, "float64": 2.5}.get(dtype, 3)
    value = np.ones((2,) if kind == "dim" else (), dtype=dtype)
    return library.tensor(value) if library is soma else torch.from_numpy(value)


@pytest.mark.parametrize("kinds", [("dim", "dim"), ("dim", "zero"), ("zero", "dim"), ("dim", "scalar"),
                                   ("zero", "zero"), ("zero", "scalar")])
def test_result_type_is_torch_for_every_dtype_pair(kinds):
    for a, b in itertools.product(DTYPES, DTYPES):
        s = soma.result_type(_operand(soma, a, kinds[0]), _operand(soma, b, kinds[1]))
        t = torch.result_type(_operand(torch, a, kinds[0]), _operand(torch, b, kinds[1]))
        assert str(s) == str(t).replace("torch.", ""), (a, b, kinds, s, t)


def test_promotion_in_ops_matches_the_issue_examples():
    f32, i64 = soma.ones(2), soma.ones(2, dtype=soma.int64)
    assert (f32 * np.float64(1.5)).dtype == soma.float32
    assert (f32 * soma.tensor(1.5, dtype=soma.float64)).dtype == soma.float32
    assert (i64 / i64).dtype == soma.float32 and (i64**1.5).dtype == soma.float32
    assert soma.ones(2, dtype=soma.uint8).sin().dtype == soma.float32
    assert (soma.ones(2, dtype=soma.uint8) + 300).tolist() == [45, 45]  # wraps as PyTorch does
    assert (soma.tensor([5]) & soma.tensor([3])).tolist() == [1] and (~soma.tensor([5])).tolist() == [-6]
    assert (soma.tensor([5]) << 1).tolist() == [10] and (soma.tensor([True]) ^ soma.tensor([True])).tolist() == [False]
    with pytest.raises(NotImplementedError, match="Float"):
        soma.ones(2) & soma.ones(2)
    with pytest.raises(RuntimeError, match="without overflow"):
        soma.tensor(300, dtype=soma.uint8)
    assert soma.tensor(-1, dtype=soma.uint8).item() == 255


def test_zero_d_results_are_tensors_of_0d_arrays():
    x = soma.tensor([1.5, -2.0, 3.0])
    results = [x % 2, x // 2, x == 1.5, x > 0, (x > 0).all(), (x > 0).any(), x.round(), x.sign(), x.sum(), x.max(),
               x.norm(), x[0], x[0] % 2, soma.tensor(3) // 2]
    for r in results:
        assert isinstance(r, soma.Tensor) and isinstance(r._array, np.ndarray), type(r)
    assert x.sum().ndim == 0 and (x[0] == 1.5).ndim == 0
    leaf = soma.tensor(2.0, requires_grad=True)
    (leaf * leaf).backward()
    assert isinstance(leaf.grad, soma.Tensor) and isinstance(leaf.grad._array, np.ndarray) and leaf.grad.item() == 4.0
    dataset = soma.utils.data.TensorDataset(soma.tensor([1.0, 2.0]), soma.tensor([3, 4]))
    assert all(isinstance(item._array, np.ndarray) for item in dataset[1])


# ------------------------------------------------------------------------------- .data
def test_data_is_a_detached_tensor_sharing_storage():
    p = nn.Parameter(soma.ones(3))
    d = p.data
    assert isinstance(d, soma.Tensor) and not d.requires_grad
    p.data.add_(1)  # the optimizer idiom: no error, and p changes
    assert p.tolist() == [2.0, 2.0, 2.0]
    assert abs(p.data.norm().item() - np.sqrt(12)) < 1e-6
    p.data = soma.zeros(3)
    assert p.tolist() == [0.0, 0.0, 0.0] and p.requires_grad
    with pytest.raises(TypeError):
        p.data = np.zeros(3)


# ---------------------------------------------------------------------------- in-place
def test_in_place_on_a_non_leaf_keeps_the_graph():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1).mul_(3)
    y.sum().backward()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx * 2
    ty.add_(1).mul_(3)
    ty.sum().backward()
    assert y.tolist() == ty.tolist() and x.grad.tolist() == tx.grad.tolist()
    assert y.grad_fn is not None and y.requires_grad


def test_in_place_on_a_leaf_that_requires_grad_is_an_error():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with soma.no_grad():
        x.add_(1)  # allowed without recording
    assert x.tolist() == [2.0, 3.0] and x._version == 1


def test_in_place_dtype_and_shape_rules():
    with pytest.raises(RuntimeError, match="can't be cast"):
        soma.tensor([1, 2]).add_(1.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        soma.zeros(3).add_(soma.ones(2, 3))
    x = soma.zeros(3)
    x.add_(soma.ones(3, dtype=soma.float64))  # float64 into float32: same category, allowed
    assert x.dtype == soma.float32 and x.tolist() == [1.0, 1.0, 1.0]
    z = soma.zeros(2, dtype=soma.int64)
    z.copy_(soma.tensor([1.7, -2.2]))  # copy_ casts anything
    assert z.tolist() == [1, -2]


@pytest.mark.parametrize("change", [
    lambda saved: saved.mul_(2),                 # the tensor Mul saved
    lambda saved: saved[0].fill_(5.0),           # a view of it
    lambda saved: saved.data.zero_(),            # its storage through .data
])
def test_changing_a_saved_tensor_in_place_is_detected(change):
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    w = soma.tensor([3.0, 4.0])
    y = (x * w).sum()
    change(w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_changing_a_saved_output_or_mask_is_detected():
    x = soma.tensor([1.0, -2.0], requires_grad=True)
    y = x.exp()  # Exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    mask = soma.tensor([True, False])
    z = soma.where(mask, x, x * 0)
    mask[0] = False
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_unrelated_in_place_changes_do_not_trip_backward():
    x = soma.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    other = soma.zeros(2)
    other.add_(1)
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_setitem_on_a_non_leaf_routes_the_gradient():
    x = soma.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = soma.tensor(10.0, requires_grad=True)
    y = x * 1
    y[1] = v * 2
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0] and v.grad.item() == 2.0


# ----------------------------------------------------------------- keywords and out=
def test_functions_take_pytorch_keywords_and_out():
    a, b = soma.ones(2, 3), soma.ones(3, 4)
    assert soma.matmul(input=a, other=b).shape == (2, 4)
    assert soma.add(input=a, other=a, alpha=2).tolist() == [[3.0] * 3] * 2
    assert soma.sum(input=a, dim=0, keepdim=True).shape == (1, 3)
    assert soma.mean(a, dim=(0, 1)).item() == 1.0
    out = soma.empty(0)
    result = soma.mul(a, 2, out=out)
    assert result is out and out.shape == (2, 3) and out.tolist() == [[2.0] * 3] * 2
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
        soma.exp(soma.ones(2, requires_grad=True), out=soma.empty(2))


def test_reductions_over_an_empty_dim_list_reduce_everything():
    x = soma.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert x.sum(dim=()).item() == 11.0 and x.mean(dim=[]).item() == 2.75 and x.amax(dim=()).item() == 5.0


@pytest.mark.parametrize("make", [
    lambda d: nn.MultiheadAttention(8, 2, device=d), lambda d: nn.RMSNorm(4, device=d),
    lambda d: nn.TransformerEncoderLayer(8, 2, 16, device=d), lambda d: nn.TransformerDecoderLayer(8, 2, 16, device=d),
    lambda d: nn.Transformer(8, 2, 1, 1, 16, device=d), lambda d: nn.Linear(2, 3, device=d),
    lambda d: nn.Conv2d(1, 2, 3, device=d), lambda d: nn.LSTM(2, 3, device=d),
])
def test_layer_constructors_check_their_device(make):
    make("cpu")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        make("cuda")

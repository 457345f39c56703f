"""soma.onnx: every supported layer exported, run in onnxruntime, and compared with soma.

Each case builds a small model with random weights (batch-norm statistics too),
exports it on a batch of 2 and runs the file on batches of 1, 2 and 5 (the batch
dimension is symbolic), comparing with soma in eval mode at the float32 contract
(1e-5 relative, 1e-6 absolute).
"""

import os
import sys

import numpy as np
import pytest

import soma
import soma.onnx
from soma import nn
from soma.models import Autoencoder, ConvAutoencoder, DigitsCNN, LeNet5
from soma.onnx import exporter

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def randomize(model, rng):
    """Random values for the tensors initialized to a constant (γ = 1, β = 0, running mean and
    variance, PReLU's slope, Swish's β), so a swapped γ/β or mean/var cannot pass; weights keep
    their default initialization, whose scale keeps deep models' outputs near 1."""
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        data = tensor._array
        if data.dtype.kind == "f" and np.all(data == data.flat[0]):
            positive = name.endswith(("running_var", "weight", "beta"))
            data[...] = rng.uniform(0.5, 1.5, data.shape) if positive else rng.normal(0, 0.5, data.shape)
    return model


def run_onnx(path, array):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: array})[0]


def soma_eval(model, array):
    model.eval()
    with soma.no_grad():
        return model(soma.from_numpy(array)).numpy()


def roundtrip(model, features, tmp_path, dtype=np.float32, batches=(1, 2, 5), **options):
    """Export on a batch of 2, then compare onnxruntime with soma on each batch size; return max |diff|."""
    rng = np.random.default_rng(0)
    randomize(model, rng)
    path = tmp_path / "model.onnx"
    soma.onnx.export(model, soma.from_numpy(rng.standard_normal((2, *features)).astype(dtype)), path, **options)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    worst = 0.0
    for batch in batches:
        array = rng.standard_normal((batch, *features)).astype(dtype)
        got, expected = run_onnx(path, array), soma_eval(model, array)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **TOLERANCE[np.dtype(dtype).type])
        worst = max(worst, float(np.max(np.abs(got - expected))))
    return worst


S = nn.Sequential
LAYERS = {
    # linear and shape
    "linear": (lambda: S(nn.Linear(6, 4)), (6,)),
    "linear-no-bias": (lambda: S(nn.Linear(6, 4, bias=False)), (6,)),
    "linear-3d": (lambda: S(nn.Linear(6, 4)), (3, 6)),
    "linear-3d-no-bias": (lambda: S(nn.Linear(6, 4, bias=False)), (3, 6)),
    "nested-sequential": (lambda: S(S(nn.Linear(6, 5), nn.Tanh()), S(S(nn.Linear(5, 3)))), (6,)),
    "identity-dropout": (lambda: S(nn.Identity(), nn.Dropout(0.5), nn.Linear(6, 3), nn.Dropout(0.2)), (6,)),
    "dropout2d": (lambda: S(nn.Conv2d(2, 3, 3), nn.Dropout2d(0.5), nn.Flatten(2), nn.Dropout1d()), (2, 5, 5)),
    "only-dropout": (lambda: S(nn.Dropout()), (4,)),
    "flatten": (lambda: S(nn.Flatten()), (2, 3, 4)),
    "flatten-middle": (lambda: S(nn.Flatten(1, 2)), (2, 3, 4)),
    "flatten-last": (lambda: S(nn.Flatten(-2)), (2, 3, 4)),
    "flatten-batch": (lambda: S(nn.Flatten(0, 1)), (3, 4)),
    "softmax-implicit-3d": (lambda: S(nn.Softmax()), (3, 4)),  # PyTorch's legacy choice for rank 3: dim 0
    "unflatten": (lambda: S(nn.Unflatten(1, (2, -1))), (6, 3)),
    # convolution
    "conv2d": (lambda: S(nn.Conv2d(3, 4, 3)), (3, 7, 6)),
    "conv2d-stride-pad": (lambda: S(nn.Conv2d(3, 4, 3, stride=2, padding=1)), (3, 7, 6)),
    "conv2d-tuple": (lambda: S(nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1))), (3, 7, 6)),
    "conv2d-same-even": (lambda: S(nn.Conv2d(3, 4, 4, padding="same", dilation=2)), (3, 9, 8)),
    "conv2d-valid": (lambda: S(nn.Conv2d(3, 4, 2, padding="valid")), (3, 5, 5)),
    "conv2d-groups": (lambda: S(nn.Conv2d(4, 6, 3, groups=2, bias=False, dilation=(2, 1))), (4, 8, 8)),
    "conv2d-depthwise": (lambda: S(nn.Conv2d(3, 3, 3, groups=3, padding=1)), (3, 6, 6)),
    "conv1d": (lambda: S(nn.Conv1d(3, 5, 3, stride=2, padding=1)), (3, 11)),
    "conv1d-same": (lambda: S(nn.Conv1d(3, 5, 4, padding="same", bias=False)), (3, 10)),
    "conv-transpose2d": (lambda: S(nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)), (3, 4, 5)),
    "conv-transpose1d": (lambda: S(nn.ConvTranspose1d(4, 2, 3, stride=2, groups=2, dilation=2)), (4, 6)),
    # pooling
    "maxpool2d": (lambda: S(nn.MaxPool2d(2)), (2, 6, 6)),
    "maxpool2d-pad": (lambda: S(nn.MaxPool2d(3, stride=2, padding=1)), (2, 7, 6)),
    "maxpool2d-ceil": (lambda: S(nn.MaxPool2d(2, ceil_mode=True)), (2, 7, 5)),
    "maxpool2d-ceil-pad": (lambda: S(nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)), (2, 6, 8)),
    "maxpool2d-dilation": (lambda: S(nn.MaxPool2d((3, 2), stride=(2, 1), dilation=(2, 1))), (2, 9, 6)),
    "maxpool1d": (lambda: S(nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)), (2, 10)),
    "avgpool2d": (lambda: S(nn.AvgPool2d(2)), (2, 6, 6)),
    "avgpool2d-pad": (lambda: S(nn.AvgPool2d(3, stride=2, padding=1)), (2, 7, 6)),
    "avgpool2d-pad-exclude": (lambda: S(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)), (2, 7, 6)),
    "avgpool2d-ceil": (lambda: S(nn.AvgPool2d(2, ceil_mode=True)), (2, 7, 5)),
    "avgpool2d-ceil-pad": (lambda: S(nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)), (2, 6, 8)),
    "avgpool2d-ceil-pad-exclude": (lambda: S(nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)), (2, 6, 8)),
    "avgpool1d": (lambda: S(nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)), (2, 9)),
    "adaptive-avgpool2d-1": (lambda: S(nn.AdaptiveAvgPool2d(1)), (3, 5, 7)),
    "adaptive-avgpool2d-2": (lambda: S(nn.AdaptiveAvgPool2d((2, 3))), (3, 4, 6)),
    "adaptive-avgpool2d-none": (lambda: S(nn.AdaptiveAvgPool2d((None, 1))), (3, 4, 6)),
    "adaptive-avgpool1d": (lambda: S(nn.AdaptiveAvgPool1d(1)), (3, 7)),
    # normalization
    "batchnorm1d-2d": (lambda: S(nn.Linear(4, 5), nn.BatchNorm1d(5)), (4,)),
    "batchnorm1d-3d": (lambda: S(nn.BatchNorm1d(3)), (3, 7)),
    "batchnorm1d-no-affine": (lambda: S(nn.BatchNorm1d(5, affine=False)), (5,)),
    "batchnorm2d": (lambda: S(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3, eps=1e-3)), (2, 5, 5)),
    "layernorm": (lambda: S(nn.LayerNorm(6)), (6,)),
    "layernorm-2-dims": (lambda: S(nn.LayerNorm((3, 4), eps=1e-3)), (2, 3, 4)),
    "layernorm-no-affine": (lambda: S(nn.LayerNorm(6, elementwise_affine=False)), (3, 6)),
    "layernorm-no-bias": (lambda: S(nn.LayerNorm(6, bias=False)), (6,)),
}

ACTIVATIONS = {
    "relu": nn.ReLU(), "relu6": nn.ReLU6(), "leaky-relu": nn.LeakyReLU(0.2), "elu": nn.ELU(0.7),
    "celu": nn.CELU(1.3), "selu": nn.SELU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "softsign": nn.Softsign(),
    "gelu": nn.GELU(), "gelu-tanh": nn.GELU("tanh"), "silu": nn.SiLU(), "swish": nn.Swish(1.5),
    "swish-trainable": nn.Swish(0.8, trainable=True), "mish": nn.Mish(), "softplus": nn.Softplus(),
    "softplus-beta": nn.Softplus(beta=2.0, threshold=1.0), "hardtanh": nn.Hardtanh(-0.5, 0.8),
    "hardsigmoid": nn.Hardsigmoid(), "hardswish": nn.Hardswish(), "logsigmoid": nn.LogSigmoid(),
    "tanhshrink": nn.Tanhshrink(), "threshold": nn.Threshold(0.1, -2.0), "step": nn.Step(),
    "step-threshold": nn.Step(0.3), "softmax": nn.Softmax(dim=1), "softmax-last": nn.Softmax(dim=-1),
    "softmax-implicit": nn.Softmax(), "log-softmax": nn.LogSoftmax(dim=2), "softmin": nn.Softmin(dim=1),
    "prelu": nn.PReLU(), "prelu-channels": nn.PReLU(3),
}


@pytest.mark.parametrize("case", LAYERS)
def test_layer_round_trip(case, tmp_path):
    factory, features = LAYERS[case]
    assert roundtrip(factory(), features, tmp_path) < 1e-5


@pytest.mark.parametrize("case", ACTIVATIONS)
def test_activation_round_trip(case, tmp_path):
    # inputs of about ±2 reach the flat and linear regions (softplus threshold, hardtanh, step)
    model = S(nn.Conv2d(3, 3, 1), ACTIVATIONS[case])
    assert roundtrip(model, (3, 4, 5), tmp_path) < 1e-5


def test_step_fires_at_its_threshold(tmp_path):
    path = tmp_path / "step.onnx"
    soma.onnx.export(S(nn.Step(0.5)), soma.zeros(1, 4), path)
    assert run_onnx(path, np.array([[0.5, 0.4, 0.6, 0.0]], np.float32)).tolist() == [[1.0, 0.0, 1.0, 0.0]]


def test_activation_without_parameters_on_a_matrix(tmp_path):
    assert roundtrip(S(nn.Linear(5, 4), nn.Softmax(), nn.PReLU(4)), (5,), tmp_path) < 1e-5


@pytest.mark.parametrize("model, size", [(LeNet5, 28), (DigitsCNN, 8)], ids=["LeNet5", "DigitsCNN"])
def test_lenet_models_round_trip_with_state_dict_names(model, size, tmp_path):
    model = model()
    assert roundtrip(model, (1, size, size), tmp_path) < 1e-5
    names = {tensor.name for tensor in onnx.load(str(tmp_path / "model.onnx")).graph.initializer}
    weights = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    assert weights <= names, weights - names
    assert all("/" in name for name in names - weights)  # the rest are the formulas' constants


def test_autoencoders_round_trip(tmp_path):
    assert roundtrip(Autoencoder(16, 3, hidden=(8,)), (16,), tmp_path) < 1e-5
    assert roundtrip(ConvAutoencoder(1, channels=(4, 2), image_size=8, code_size=5), (1, 8, 8), tmp_path) < 1e-5


def test_float64_model_keeps_its_dtype(tmp_path):
    model = S(nn.Linear(5, 4, dtype=soma.float64), nn.Tanh(), nn.LayerNorm(4, dtype=soma.float64))
    assert roundtrip(model, (5,), tmp_path, dtype=np.float64) < 1e-10


def test_export_uses_eval_mode_and_restores_each_modules_mode(tmp_path):
    model = randomize(S(nn.Linear(6, 6), nn.Dropout(0.5), S(nn.BatchNorm1d(6), nn.Dropout(0.9))),
                      np.random.default_rng(0))
    model.train()
    model[2][1].eval()
    modes = [m.training for m in model.modules()]
    soma.onnx.export(model, soma.randn(2, 6), tmp_path / "m.onnx")
    assert [m.training for m in model.modules()] == modes
    array = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", array), soma_eval(model, array), rtol=1e-5, atol=1e-6)


def test_verify_reports_the_max_difference(tmp_path):
    model = randomize(LeNet5(), np.random.default_rng(1))
    path = tmp_path / "lenet.onnx"
    soma.onnx.export(model, soma.randn(1, 1, 28, 28), path)
    difference = soma.onnx.verify(model, soma.randn(3, 1, 28, 28), path)
    assert 0 <= difference < 1e-5
    model.classifier[-1].bias._array += 1.0  # now every logit of soma is 1 higher than the file's
    assert soma.onnx.verify(model, soma.randn(3, 1, 28, 28), path) == pytest.approx(1.0, abs=1e-5)


def test_dynamic_batch_and_names(tmp_path):
    model = S(nn.Linear(3, 2))
    path = tmp_path / "m.onnx"
    soma.onnx.export(model, soma.randn(4, 3), path, input_names=["pixels"], output_names=["logits"])
    graph = onnx.load(str(path)).graph
    assert [graph.input[0].name, graph.output[0].name] == ["pixels", "logits"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"

    soma.onnx.export(model, soma.randn(4, 3), path, dynamic_batch=False)
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [4, 3]
    assert run_onnx(path, np.ones((4, 3), np.float32)).shape == (4, 2)
    with pytest.raises(ort.capi.onnxruntime_pybind11_state.InvalidArgument, match="dimensions"):
        run_onnx(path, np.ones((5, 3), np.float32))


def test_opset_versions(tmp_path):
    model = S(nn.Linear(3, 2), nn.Softmax(dim=1))
    proto = soma.onnx.export(model, soma.randn(2, 3), tmp_path / "m.onnx", opset_version=13)
    assert proto.opset_import[0].version == 13 and proto.ir_version == 7
    assert soma.onnx.verify(model, soma.randn(5, 3), tmp_path / "m.onnx") < 1e-6
    with pytest.raises(NotImplementedError, match="LayerNorm.*opset_version >= 17"):
        soma.onnx.export(S(nn.LayerNorm(3)), soma.randn(2, 3), tmp_path / "m.onnx", opset_version=13)
    with pytest.raises(ValueError, match="opset_version"):
        soma.onnx.export(model, soma.randn(2, 3), tmp_path / "m.onnx", opset_version=9)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = S(nn.Linear(3, 3))

    def forward(self, x):
        return x + self.body(x)


@pytest.mark.parametrize("model, shape, message", [
    (Residual(), (2, 3), r"cannot export Residual.*Supported: .*Conv2d.*Sequential"),
    (S(nn.Linear(3, 3), S(nn.ReLU(), nn.RMSNorm(3))), (2, 3), r"cannot export RMSNorm \(at '1.1'\)"),
    (S(nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")), (2, 3, 3, 3), r"Conv2d with padding_mode='reflect'"),
    (S(nn.MaxPool2d(2, return_indices=True)), (2, 3, 3, 3), "MaxPool2d with return_indices"),
    (S(nn.AvgPool2d(2, divisor_override=3)), (2, 3, 3, 3), "AvgPool2d with divisor_override"),
    (S(nn.AdaptiveAvgPool2d(2)), (2, 3, 3, 3), r"AdaptiveAvgPool2d from \(3, 3\) to \(2, 2\) has unequal bins"),
    (S(nn.BatchNorm2d(3, track_running_stats=False)), (2, 3, 3, 3), "BatchNorm2d with track_running_stats=False"),
    (S(nn.Unflatten(0, (1, -1))), (2, 3), "Unflatten of dim 0"),
    (S(nn.MaxPool2d(2)), (3, 4, 4), r"MaxPool2d got input of shape \(3, 4, 4\): only batched"),
])
def test_unsupported_modules_and_options_are_named(model, shape, message, tmp_path):
    with pytest.raises(NotImplementedError, match=message):
        soma.onnx.export(model, soma.randn(*shape), tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []  # nothing written


def test_a_chain_that_does_not_reproduce_the_forward_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(exporter.CHAINS, Residual, ("body",))
    with pytest.raises(RuntimeError, match="do not reproduce"):
        soma.onnx.export(Residual(), soma.randn(2, 3), tmp_path / "m.onnx")


@pytest.mark.parametrize("package, call", [
    ("onnx", lambda path: soma.onnx.export(S(nn.ReLU()), soma.randn(1, 2), path)),
    ("onnxruntime", lambda path: soma.onnx.verify(S(nn.ReLU()), soma.randn(1, 2), path)),
])
def test_missing_package_says_how_to_install(package, call, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "soma\[onnx\]"'):
        call(tmp_path / "m.onnx")


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    model = S(nn.Linear(3, 2))
    soma.onnx.export(model, soma.randn(2, 3), path)
    assert os.listdir(tmp_path) == ["m.onnx"]  # no temporary file left behind
    before = path.read_bytes()

    def crash(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        soma.onnx.export(S(nn.Linear(3, 5)), soma.randn(2, 3), path)
    assert os.listdir(tmp_path) == ["m.onnx"] and path.read_bytes() == before

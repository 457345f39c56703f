"""Autoencoders: shapes, encode/decode, denoising noise in training only, errors, plots;
training on digits (slow): reconstruction error falls and beats PCA / a mean-image baseline."""

import sys

import numpy as np
import pytest
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

import soma
from soma import datasets, nn
from soma.models import (
    Autoencoder,
    ConvAutoencoder,
    plot_codes,
    plot_reconstructions,
    reconstruction_error,
    train_autoencoder,
)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """These small GEMMs run faster, and far more steadily on a busy machine, on one BLAS thread."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    return datasets.digits()


def test_dense_shapes_and_layers():
    model = Autoencoder(64, code_size=2, hidden=(32, 16))
    x = soma.rand(5, 64)
    assert model.encode(x).shape == (5, 2)
    assert model.decode(model.encode(x)).shape == (5, 64)
    assert model(x).shape == (5, 64)
    linears = [m for m in model.encoder if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 32), (32, 16), (16, 2)]
    linears = [m for m in model.decoder if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 16), (16, 32), (32, 64)]
    assert isinstance(model.decoder[-1], nn.Sigmoid)  # outputs in [0, 1] like the pixels
    assert not isinstance(model.encoder[-1], nn.ReLU)  # a linear code
    assert "code_size=2" in repr(model)
    # forward = decode ∘ encode when there is no noise
    np.testing.assert_allclose(
        model(x).detach().numpy(), model.decode(model.encode(x)).detach().numpy()
    )


def test_conv_shapes():
    model = ConvAutoencoder()
    x = soma.rand(3, 1, 8, 8)
    assert model.encode(x).shape == (3, 16)
    assert model(x).shape == (3, 1, 8, 8)
    fully_conv = ConvAutoencoder(1, channels=(16, 8), code_size=None)
    assert fully_conv.encode(x).shape == (3, 8, 2, 2)
    assert fully_conv(x).shape == (3, 1, 8, 8)
    out = fully_conv(x).detach().numpy()
    assert out.min() >= 0 and out.max() <= 1


def test_gradients_reach_every_parameter():
    for model, x in (
        (Autoencoder(64, 4, hidden=(8,)), soma.rand(4, 64)),
        (ConvAutoencoder(), soma.rand(4, 1, 8, 8)),
    ):
        nn.MSELoss()(model(x), x).backward()
        for name, parameter in model.named_parameters():
            assert parameter.grad is not None and np.any(parameter.grad.numpy() != 0), name


def test_denoising_noise_only_in_training():
    model = Autoencoder(64, 8, noise_std=0.5)
    x = soma.rand(4, 64)
    model.train()
    first, second = model(x).detach().numpy(), model(x).detach().numpy()
    assert not np.allclose(first, second)  # a fresh corruption each call
    model.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), model(x).detach().numpy())
    np.testing.assert_allclose(
        model(x).detach().numpy(), model.decode(model.encode(x)).detach().numpy()
    )
    # the corruption is x + N(0, 0.5²)
    noise = model.corrupt(soma.zeros(2000, 64)).numpy()
    assert abs(noise.std() - 0.5) < 0.01 and abs(noise.mean()) < 0.01
    # repeatable with the global seed
    soma.manual_seed(1)
    a = model.corrupt(x).numpy()
    soma.manual_seed(1)
    np.testing.assert_array_equal(a, model.corrupt(x).numpy())


def test_bad_inputs():
    with pytest.raises(RuntimeError, match=r"Autoencoder\(in_features=64\).*\(2, 10\).*\(N, 64\)"):
        Autoencoder(64, 2)(soma.rand(2, 10))
    with pytest.raises(RuntimeError, match=r"ConvAutoencoder.*\(2, 1, 9, 9\).*\(N, 1, 8, 8\)"):
        ConvAutoencoder()(soma.rand(2, 1, 9, 9))
    with pytest.raises(ValueError, match="divisible"):
        ConvAutoencoder(image_size=6, channels=(4, 4))
    with pytest.raises(ValueError, match="code_size"):
        Autoencoder(64, 0)


def test_reconstruction_error_and_training_loop():
    rng = np.random.default_rng(0)
    X = rng.random((40, 8)).astype(np.float32)
    model = Autoencoder(8, 3, output_activation=None)
    before = reconstruction_error(model, X)
    per_sample = reconstruction_error(model, X, per_sample=True)
    assert per_sample.shape == (40,) and per_sample.mean() == pytest.approx(before, rel=1e-5)
    with soma.no_grad():
        expected = ((model(soma.tensor(X)).numpy() - X) ** 2).mean()
    assert before == pytest.approx(expected, rel=1e-5)
    history = train_autoencoder(model, X, epochs=30, batch_size=8, lr=1e-2)
    assert len(history) == 30 and history[-1] < history[0]
    assert reconstruction_error(model, X) < before
    assert not model.training  # left in eval mode


def test_plots_write_pngs(tmp_path, digits):
    (X, y), _ = digits
    model = Autoencoder(64, 2, noise_std=0.2)
    path = plot_reconstructions(model, X, tmp_path / "recon.png", n=6)
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    conv = ConvAutoencoder(code_size=2)
    assert plot_reconstructions(conv, X.reshape(-1, 1, 8, 8), tmp_path / "conv.png", n=4).endswith(
        "conv.png"
    )
    path = plot_codes(model, X[:200], y[:200], tmp_path / "codes.png")
    assert open(path, "rb").read(4) == b"\x89PNG"
    with pytest.raises(ValueError, match="2-D codes"):
        plot_codes(Autoencoder(64, 3), X[:10], y[:10], tmp_path / "bad.png")


def test_plots_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "soma\[plot\]"'):
        plot_codes(Autoencoder(4, 2), np.zeros((3, 4), np.float32), [0, 1, 0], tmp_path / "x.png")


def _pca_error(X, X_test, k):
    pca = PCA(k).fit(X)
    return float(((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2).mean())


@pytest.mark.slow
def test_dense_autoencoder_on_digits(digits):
    (X, _), (X_test, _) = digits
    model = Autoencoder(64, 16, hidden=(32,))
    history = train_autoencoder(model, X, epochs=30, lr=1e-2)
    assert history[-1] < history[0] / 4  # measured: 0.100 -> 0.012
    baseline = float(((X_test - X.mean(0)) ** 2).mean())  # predict the mean image: 0.073
    error = reconstruction_error(model, X_test)
    assert error < 0.02 < baseline  # measured: 0.0115 (PCA with 16 components: 0.0115)


@pytest.mark.slow
def test_two_dimensional_codes_beat_pca(digits):
    (X, _), (X_test, _) = digits
    model = Autoencoder(64, 2, hidden=(32,))
    train_autoencoder(model, X, epochs=30, lr=1e-2)
    # non-linear 2-D codes keep more than the best linear 2-D projection (measured 0.042 vs 0.052)
    assert reconstruction_error(model, X_test) < _pca_error(X, X_test, 2)


@pytest.mark.slow
def test_denoising_autoencoder_removes_noise_better(digits):
    (X, _), (X_test, _) = digits
    noisy = (X_test + 0.3 * np.random.default_rng(0).standard_normal(X_test.shape)).astype(
        np.float32
    )
    errors = {}
    for noise_std in (0.0, 0.3):
        soma.manual_seed(0)
        model = Autoencoder(64, 32, hidden=(64,), noise_std=noise_std)
        train_autoencoder(model, X, epochs=40, lr=5e-3)
        with soma.no_grad():
            errors[noise_std] = float(((model(soma.tensor(noisy)).numpy() - X_test) ** 2).mean())
    # measured: plain 0.039, denoising 0.020, the noisy input itself 0.089
    assert errors[0.3] < 0.75 * errors[0.0]
    assert errors[0.3] < 0.03


@pytest.mark.slow
def test_conv_autoencoder_on_digits():
    (X, _), (X_test, _) = datasets.digits(images=True)
    model = ConvAutoencoder(1, channels=(16,), code_size=16)
    history = train_autoencoder(model, X, epochs=30, lr=1e-2)
    assert history[-1] < history[0] / 4  # measured: 0.113 -> 0.007
    assert reconstruction_error(model, X_test) < 0.015  # measured: 0.008

"""Autoencoders on the 8×8 digits: undercomplete, 2-D codes, denoising, convolutional.

Prints the reconstruction error per epoch and on the test images, compares with
PCA (the best *linear* code of the same size), shows how a denoising autoencoder
cleans noisy digits, and saves pictures (inputs vs reconstructions, 2-D codes by
class) to ./autoencoder_output/ when matplotlib is installed.
"""

import numpy as np

import soma
from soma import datasets
from soma.models import (
    Autoencoder,
    ConvAutoencoder,
    plot_codes,
    plot_reconstructions,
    reconstruction_error,
    train_autoencoder,
)

try:  # small matrices: one BLAS thread is faster, and steadier on a busy machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

soma.manual_seed(0)
(X, y), (X_test, y_test) = datasets.digits()
print(f"predicting the mean image: test MSE {((X_test - X.mean(0)) ** 2).mean():.4f}")


def pca_error(k):
    mean = X.mean(0)
    _, _, components = np.linalg.svd(X - mean, full_matrices=False)
    basis = components[:k]
    return float(((X_test - mean - (X_test - mean) @ basis.T @ basis) ** 2).mean())


print("\n1. undercomplete 64 → 32 → 16 → 32 → 64 (ReLU, sigmoid output), Adam lr 0.01")
model = Autoencoder(64, code_size=16, hidden=(32,))
history = train_autoencoder(model, X, epochs=30, lr=1e-2)
for epoch in (1, 5, 10, 20, 30):
    print(f"   epoch {epoch:2d}: training MSE {history[epoch - 1]:.4f}")
print(
    f"   test MSE {reconstruction_error(model, X_test):.4f}  "
    f"(PCA, 16 components: {pca_error(16):.4f})"
)

print("\n2. a 2-D code: the encoder as a dimensionality reducer")
model_2d = Autoencoder(64, code_size=2, hidden=(32,))
train_autoencoder(model_2d, X, epochs=30, lr=1e-2)
print(
    f"   test MSE {reconstruction_error(model_2d, X_test):.4f}  "
    f"(PCA, 2 components: {pca_error(2):.4f})"
)

print("\n3. denoising: trained on x + N(0, 0.3²), asked to rebuild the clean x")
noisy = (X_test + 0.3 * np.random.default_rng(0).standard_normal(X_test.shape)).astype(np.float32)
print(f"   noisy test images vs clean: MSE {((noisy - X_test) ** 2).mean():.4f}")
for noise_std in (0.0, 0.3):
    denoiser = Autoencoder(64, code_size=32, hidden=(64,), noise_std=noise_std)
    train_autoencoder(denoiser, X, epochs=40, lr=5e-3)
    with soma.no_grad():
        cleaned = denoiser(soma.tensor(noisy)).numpy()
    kind = "denoising autoencoder" if noise_std else "plain autoencoder    "
    print(
        f"   {kind}: its output on the noisy input vs clean MSE "
        f"{((cleaned - X_test) ** 2).mean():.4f}"
    )

print("\n4. convolutional: Conv2d 3×3 (16) → MaxPool 2 → Linear 16 → … → ConvTranspose2d")
(Xi, _), (Xi_test, _) = datasets.digits(images=True)
conv = ConvAutoencoder(in_channels=1, channels=(16,), code_size=16)
history = train_autoencoder(conv, Xi, epochs=30, lr=1e-2)
print(
    f"   training MSE {history[0]:.4f} → {history[-1]:.4f}; "
    f"test MSE {reconstruction_error(conv, Xi_test):.4f}"
)

try:
    paths = [
        plot_reconstructions(model, X_test, "autoencoder_output/dense_reconstructions.png"),
        plot_reconstructions(denoiser, X_test, "autoencoder_output/denoising.png"),
        plot_reconstructions(conv, Xi_test, "autoencoder_output/conv_reconstructions.png"),
        plot_codes(model_2d, X_test, y_test, "autoencoder_output/codes_2d.png"),
    ]
    print("\npictures:", *paths, sep="\n  ")
except ImportError as error:
    print(f"\n(no pictures: {error})")

"""Autoencoders: an encoder squeezes x into a code z, a decoder rebuilds x̂ from it.

    z = encoder(x),   x̂ = decoder(z),   loss = (1/D) Σᵢ (xᵢ − x̂ᵢ)²      (mean squared error)

See notes 002 ("51. What is an autoencoder?") and notes 003: the network learns "a
low-dimensional representation ... by compressing [the input] into a latent
representation and then reconstructing the input data from the compressed
representation". Two ways to stop it from learning the identity:

- **undercomplete**: the code is smaller than the input (64 pixels → 2 to 32 numbers),
  so it must keep what matters (a non-linear cousin of PCA);
- **denoising** (``noise_std > 0``): in training mode the input is corrupted,
  x̃ = x + ε with ε ~ N(0, noise_std²), and the target stays the clean x, so the
  network must learn the structure of the data to undo the noise. In ``eval()``
  mode no noise is added.

``Autoencoder`` is dense (fully connected); ``ConvAutoencoder`` is convolutional
(Conv2d + MaxPool2d down, ConvTranspose2d up). Helpers: :func:`train_autoencoder`,
:func:`reconstruction_error`, and the pictures :func:`plot_reconstructions` and
:func:`plot_codes` (matplotlib, the optional extra ``pip install "soma[plot]"``).
"""

import numpy as np

import soma
from soma import nn, optim
from soma.random import generator

__all__ = [
    "Autoencoder",
    "ConvAutoencoder",
    "train_autoencoder",
    "reconstruction_error",
    "plot_reconstructions",
    "plot_codes",
]


class _AutoencoderBase(nn.Module):
    """encode / decode / forward shared by both autoencoders; subclasses build the two halves."""

    def _check(self, x):
        raise NotImplementedError

    def encode(self, x):
        """The code z = encoder(x) (no noise, in any mode)."""
        self._check(x)
        return self.encoder(x)

    def decode(self, z):
        """The reconstruction x̂ = decoder(z)."""
        return self.decoder(z)

    def corrupt(self, x):
        """x̃ = x + ε, ε ~ N(0, noise_std²) from soma's global generator (training only)."""
        noise = generator().standard_normal(tuple(x.shape)).astype(x.dtype) * self.noise_std
        return x + soma.tensor(noise)

    def forward(self, x):
        """x̂ = decoder(encoder(x̃)), where x̃ = x in eval mode or without noise."""
        if self.training and self.noise_std > 0:
            x = self.corrupt(x)
        return self.decode(self.encode(x))


def _dense_stack(sizes, activation, dtype):
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out, dtype=dtype))
        if k < len(sizes) - 2:
            layers.append(activation())
    return layers


class Autoencoder(_AutoencoderBase):
    """Dense autoencoder: in_features → hidden… → code_size → …hidden → in_features.

    Args:
        in_features: size of each input (64 for 8×8 digits).
        code_size: size of the code z (the bottleneck; 2 to plot it).
        hidden: sizes of the hidden layers of the encoder; the decoder mirrors them.
        activation: the hidden layers' activation class (``nn.ReLU``).
        output_activation: applied to x̂ (``nn.Sigmoid`` for inputs in [0, 1];
            ``None`` for a linear output).
        noise_std: standard deviation of the training-time Gaussian corruption
            (0: a plain autoencoder; > 0: denoising).

    The code layer is linear (no activation), so codes can take any value.

    Shape: input ``(N, in_features)`` → code ``(N, code_size)`` → output ``(N, in_features)``.

    Example:
        >>> model = Autoencoder(64, code_size=2, hidden=(32,))
        >>> model.encode(soma.rand(5, 64)).shape, model(soma.rand(5, 64)).shape
        ((5, 2), (5, 64))
    """

    def __init__(
        self,
        in_features,
        code_size,
        hidden=(),
        activation=nn.ReLU,
        output_activation=nn.Sigmoid,
        noise_std=0.0,
        dtype=None,
    ):
        super().__init__()
        if code_size < 1 or in_features < 1 or noise_std < 0:
            raise ValueError(
                f"Autoencoder: in_features and code_size must be >= 1 and noise_std >= 0, got "
                f"{in_features}, {code_size}, {noise_std}"
            )
        self.in_features, self.code_size, self.noise_std = in_features, code_size, float(noise_std)
        sizes = [in_features, *hidden, code_size]
        self.encoder = nn.Sequential(*_dense_stack(sizes, activation, dtype))
        decoder = _dense_stack(sizes[::-1], activation, dtype)
        self.decoder = nn.Sequential(
            *decoder, *([output_activation()] if output_activation else [])
        )

    def _check(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise RuntimeError(
                f"Autoencoder(in_features={self.in_features}) got input of shape {tuple(x.shape)}: "
                f"expected (N, {self.in_features})"
            )

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, code_size={self.code_size}, "
            f"noise_std={self.noise_std:g}"
        )


class ConvAutoencoder(_AutoencoderBase):
    """Convolutional autoencoder: [Conv2d 3×3, ReLU, MaxPool2d 2]… down, ConvTranspose2d 2×2/2… up.

    Each encoder stage keeps the size (padding 1) and halves it by pooling; each
    decoder stage doubles it with a stride-2 transposed convolution. With
    ``code_size`` a dense bottleneck (Flatten → Linear) follows the convolutions.

    Args:
        in_channels: image channels (1 for digits).
        channels: output channels of the encoder stages (default one stage of 16).
        image_size: height = width of the input; must be divisible by 2^len(channels).
        code_size: the size of the code vector (default 16), or ``None``: the code is the
            last feature map
            ``(N, channels[-1], image_size/2^k, image_size/2^k)``.
        noise_std: training-time Gaussian corruption (denoising when > 0).

    Example:
        >>> model = ConvAutoencoder(1, channels=(16, 8), image_size=8, code_size=None)
        >>> model.encode(soma.rand(5, 1, 8, 8)).shape, model(soma.rand(5, 1, 8, 8)).shape
        ((5, 8, 2, 2), (5, 1, 8, 8))
    """

    def __init__(
        self, in_channels=1, channels=(16,), image_size=8, code_size=16, noise_std=0.0, dtype=None
    ):
        super().__init__()
        scale = 2 ** len(channels)
        if not channels or image_size % scale or noise_std < 0:
            raise ValueError(
                f"ConvAutoencoder: image_size {image_size} must be divisible by "
                f"2^len(channels) = {scale} "
                f"and noise_std >= 0 (got {noise_std})"
            )
        self.in_channels, self.image_size, self.noise_std = (
            in_channels,
            image_size,
            float(noise_std),
        )
        self.code_size = code_size
        widths = [in_channels, *channels]
        down, up = [], []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            down += [nn.Conv2d(c_in, c_out, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2)]
        for k, (c_in, c_out) in enumerate(zip(widths[:0:-1], widths[-2::-1], strict=True)):
            last = k == len(channels) - 1
            up += [
                nn.ConvTranspose2d(c_in, c_out, 2, stride=2, dtype=dtype),
                nn.Sigmoid() if last else nn.ReLU(),
            ]
        if code_size is not None:
            side = image_size // scale
            flat = channels[-1] * side * side
            down += [nn.Flatten(), nn.Linear(flat, code_size, dtype=dtype)]
            up = [
                nn.Linear(code_size, flat, dtype=dtype),
                nn.ReLU(),
                nn.Unflatten(1, (channels[-1], side, side)),
            ] + up
        self.encoder = nn.Sequential(*down)
        self.decoder = nn.Sequential(*up)

    def _check(self, x):
        expected = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise RuntimeError(
                f"ConvAutoencoder(in_channels={self.in_channels}, image_size={self.image_size}) "
                "got input of "
                f"shape {tuple(x.shape)}: expected (N, {', '.join(map(str, expected))})"
            )

    def extra_repr(self):
        return (
            f"in_channels={self.in_channels}, image_size={self.image_size}, "
            f"noise_std={self.noise_std:g}"
        )


def _batches(X, batch_size, shuffle):
    order = generator().permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start : start + batch_size]]


def train_autoencoder(model, X, epochs=20, batch_size=64, lr=1e-2, optimizer=None, verbose=False):
    """Train ``model`` to reconstruct ``X`` (MSE, shuffled mini-batches); returns epoch losses.

    Args:
        model: an autoencoder (or any module mapping X to X's shape).
        X: training inputs, a NumPy array (rows shuffled with soma's global generator).
        epochs, batch_size: the loop.
        lr: learning rate of the default optimizer ``optim.Adam``.
        optimizer: use this optimizer instead.
        verbose: print the loss after every epoch.

    The loss per epoch is the mean of the mini-batch losses, measured on the
    (noisy, for a denoising model) training inputs; use :func:`reconstruction_error`
    for clean inputs in eval mode.
    """
    X = np.asarray(X)
    optimizer = optimizer or optim.Adam(model.parameters(), lr=lr)
    criterion = nn.MSELoss()
    model.train()
    history = []
    for epoch in range(1, epochs + 1):
        total = 0.0
        for batch in _batches(X, batch_size, shuffle=True):
            target = soma.tensor(batch)
            optimizer.zero_grad()
            loss = criterion(model(target), target)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.append(total / len(X))
        if verbose:
            print(f"epoch {epoch:3d}  reconstruction MSE {history[-1]:.5f}")
    model.eval()
    return history


def _predict(model, X, batch_size, method):
    was_training = model.training
    model.eval()
    with soma.no_grad():
        out = [
            getattr(model, method)(soma.tensor(batch)).numpy()
            for batch in _batches(X, batch_size, False)
        ]
    model.train(was_training)
    return np.concatenate(out)


def reconstruction_error(model, X, batch_size=512, per_sample=False):
    """Mean squared error (1/D)Σ(x − x̂)² of ``model``'s reconstructions of clean ``X`` in eval mode.

    Returns the mean over samples, or one value per sample with ``per_sample=True``.
    """
    X = np.asarray(X)
    squared = (X - _predict(model, X, batch_size, "forward")) ** 2
    per_row = squared.reshape(len(X), -1).mean(axis=1)
    return per_row if per_sample else float(per_row.mean())


def _figure(**kwargs):
    from soma.train.plots import _figure as figure  # matplotlib is optional: imported when plotting

    return figure(**kwargs)


def _save(figure, path):
    from soma.train.plots import _save as save

    return save(figure, path)


def plot_reconstructions(
    model, X, path="reconstructions.png", n=10, image_shape=(8, 8), noisy=True
):
    """Save a picture: the first ``n`` inputs (top row) above their reconstructions (bottom row).

    For a denoising model with ``noisy=True`` a middle row shows the corrupted inputs
    and the bottom row the model's reconstruction of them. Pixels are drawn on a
    fixed [0, 1] grey scale. Returns the path.
    """
    X = np.asarray(X)[:n]
    rows = [("input", X)]
    if noisy and getattr(model, "noise_std", 0) > 0:
        corrupted = model.corrupt(soma.tensor(X)).numpy()
        rows.append(("noisy input", corrupted))
        rows.append(("reconstruction", _predict(model, corrupted, len(X), "forward")))
    else:
        rows.append(("reconstruction", _predict(model, X, len(X), "forward")))
    figure = _figure(figsize=(1.0 * len(X), 1.1 * len(rows)))
    axes = figure.subplots(len(rows), len(X), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for c in range(len(X)):
            axes[r, c].imshow(images[c].reshape(image_shape), cmap="gray", vmin=0, vmax=1)
            axes[r, c].axis("off")
        axes[r, 0].set_title(name, fontsize=8, loc="left")
    return _save(figure, path)


def plot_codes(model, X, y, path="codes.png", title="2-D codes by class"):
    """Save a scatter plot of the 2-D codes of ``X``, one colour per class of ``y``."""
    codes = _predict(model, np.asarray(X), 512, "encode").reshape(len(X), -1)
    if codes.shape[1] != 2:
        raise ValueError(
            f"plot_codes needs a model with 2-D codes, got codes of size {codes.shape[1]}"
        )
    y = np.asarray(y)
    figure = _figure(figsize=(6, 5))
    axis = figure.subplots()
    for label in np.unique(y):
        mask = y == label
        axis.scatter(codes[mask, 0], codes[mask, 1], s=6, label=str(label))
    axis.set_xlabel("z₁")
    axis.set_ylabel("z₂")
    axis.set_title(title)
    axis.legend(markerscale=3, fontsize=7, loc="best")
    return _save(figure, path)

"""Data augmentation: random, label-preserving changes to training images.

    "Augmenting the training dataset with modified versions of the input data
    (like rotated or flipped images) can help improve generalization."
    -- the notes, "Data Augmentation" (seed 002; seed 004's regularization
    table: "Generate more data variations -- Generalization"; seed 002 also
    lists it with early stopping against overfitting).

A network that sees a digit shifted by two pixels, or turned by ten
degrees, as a *new* example must learn what stays the same, the shape,
rather than memorize pixel positions; the data set grows for free. Apply
augmentation to the training set only, with a fresh draw every epoch.

Every transform here is a callable object on NumPy images in NCHW layout,
``(N, C, H, W)``, or one image ``(C, H, W)``, and works on the whole batch at
once: per-sample random parameters are drawn as arrays, and the pixels are
moved with one fancy-indexing gather, never a Python loop over samples or
pixels. Random transforms take ``seed`` (an int) or ``generator`` (a
``numpy.random.Generator``, e.g. one shared by several transforms); the same
seed gives the same augmented batches.

Example:
    >>> import numpy as np
    >>> augment = Compose([RandomCrop(28, padding=2, seed=0),
    ...                    RandomRotation(10, seed=1),
    ...                    Normalize(0.1307, 0.3081)])
    >>> augment(np.zeros((64, 1, 28, 28), dtype=np.float32)).shape
    (64, 1, 28, 28)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from soma._validation import pair

__all__ = [
    "Compose",
    "GaussianNoise",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomShift",
    "RandomVerticalFlip",
    "rotate",
]


def _float_dtype(x: np.ndarray) -> np.dtype:
    """The input's dtype if it is floating point, else float32."""
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)


class Transform:
    """Base class: accepts ``(N, C, H, W)`` or ``(C, H, W)`` and calls
    :meth:`apply` on a batch; subclasses set :meth:`extra_repr` for the repr."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} expects images of shape (N, C, H, W) or (C, H, W), "
                f"got shape {x.shape}"
            )
        single = x.ndim == 3
        out = self.apply(x[None] if single else x)
        return out[0] if single else out

    def apply(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class RandomTransform(Transform):
    """A transform that draws from ``generator`` (or a new one seeded by ``seed``)."""

    def __init__(self, seed: int | None = None, generator: np.random.Generator | None = None):
        if seed is not None and generator is not None:
            raise ValueError("pass seed or generator, not both")
        self.generator = generator if generator is not None else np.random.default_rng(seed)


class Compose:
    """Apply transforms one after the other: ``Compose([f, g])(x) = g(f(x))``.

    Args:
        transforms: callables taking and returning an array.
    """

    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]):
        self.transforms = list(transforms)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self) -> str:
        lines = "".join(f"\n    {transform!r}," for transform in self.transforms)
        return f"Compose([{lines}\n])"


class Normalize(Transform):
    """Standardize each channel: ``x' = (x - mean[c]) / std[c]``.

    Not random: it puts inputs on the scale the first layer's initialization
    expects (zero mean, unit variance), e.g. MNIST's ``mean=0.1307,
    std=0.3081``. Use the training set's statistics for every split.

    Args:
        mean: one number, or one per channel.
        std: one number, or one per channel (all nonzero).
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be nonzero, got {std!r}")

    def apply(self, batch: np.ndarray) -> np.ndarray:
        channels = batch.shape[1]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"Normalize: {len(values)} {name} values for an input of {channels} channels"
                )
        dtype = _float_dtype(batch)
        mean = self.mean.astype(dtype).reshape(1, -1, 1, 1)
        std = self.std.astype(dtype).reshape(1, -1, 1, 1)
        return (batch.astype(dtype, copy=False) - mean) / std

    def extra_repr(self) -> str:
        return f"mean={self.mean.tolist()}, std={self.std.tolist()}"


class RandomHorizontalFlip(RandomTransform):
    """Mirror each image left-right with probability ``p``: ``x'[..., i, j] = x[..., i, W-1-j]``.

    Right for objects that look the same mirrored (cats, cars); wrong for
    digits and letters, whose mirror images are other symbols.

    Args:
        p: probability that a sample is flipped.
        seed, generator: the random source (see the module docstring).
    """

    axis = -1

    def __init__(self, p: float = 0.5, seed=None, generator=None):
        super().__init__(seed, generator)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.p = p

    def apply(self, batch: np.ndarray) -> np.ndarray:
        flip = self.generator.random(len(batch)) < self.p
        return np.where(flip[:, None, None, None], np.flip(batch, axis=self.axis), batch)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image upside down with probability ``p``:
    ``x'[..., i, j] = x[..., H-1-i, j]``. Arguments as :class:`RandomHorizontalFlip`."""

    axis = -2


def _check_interpolation(interpolation: str) -> None:
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f'interpolation must be "nearest" or "bilinear", got {interpolation!r}')


def rotate(
    x: np.ndarray,
    angle: float | np.ndarray,
    interpolation: str = "nearest",
    fill: float = 0.0,
) -> np.ndarray:
    """Rotate images counter-clockwise by ``angle`` degrees about their centre.

    Each output pixel looks up where it came from: with ``(u, v)`` its
    column and row relative to the centre ``((W-1)/2, (H-1)/2)`` and θ the
    angle, the source is

        u_s = cos θ · u − sin θ · v,    v_s = sin θ · u + cos θ · v

    (rows grow downwards, so this turns the picture counter-clockwise as
    displayed, like ``np.rot90`` and torchvision's ``rotate``). The sampling
    grid of every image is built at once, ``(N, H, W)``, and read with one
    gather: ``"nearest"`` takes the closest pixel, ``"bilinear"`` mixes the
    four around the source point by their areas. Source points outside the
    image read ``fill`` (the image is padded by one pixel of ``fill``, and
    coordinates are clipped into that border).

    Args:
        x: images ``(N, C, H, W)`` or ``(C, H, W)``.
        angle: degrees, one for all images or one per image, shape ``(N,)``.
        interpolation: ``"nearest"`` (keeps the dtype) or ``"bilinear"``.
        fill: value of pixels rotated in from outside the image.

    Returns:
        The rotated images, same shape as ``x``.

    Example:
        >>> img = np.arange(4.0).reshape(1, 2, 2)
        >>> np.array_equal(rotate(img, 90), np.rot90(img, axes=(1, 2)))
        True
    """
    x = np.asarray(x)
    if x.ndim == 3:
        return rotate(x[None], angle, interpolation, fill)[0]
    _check_interpolation(interpolation)
    n, _, height, width = x.shape
    theta = np.deg2rad(np.broadcast_to(np.asarray(angle, dtype=np.float64), (n,)))
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    v, u = v - (height - 1) / 2, u - (width - 1) / 2
    # source coordinates (N, H, W), shifted by 1 into the image padded with `fill`
    cols = cos * u - sin * v + (width - 1) / 2 + 1
    rows = sin * u + cos * v + (height - 1) / 2 + 1
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=fill)
    sample = np.arange(n)[:, None, None]

    def gather(r, c):  # (N, H, W) integer coordinates -> (N, C, H, W) pixels
        r, c = np.clip(r, 0, height + 1), np.clip(c, 0, width + 1)
        return padded[sample, :, r, c].transpose(0, 3, 1, 2)

    if interpolation == "nearest":
        return gather(np.rint(rows).astype(np.intp), np.rint(cols).astype(np.intp))
    dtype = _float_dtype(x)
    r0, c0 = np.floor(rows), np.floor(cols)
    wr, wc = (rows - r0).astype(dtype)[:, None], (cols - c0).astype(dtype)[:, None]
    r0, c0 = r0.astype(np.intp), c0.astype(np.intp)
    top = gather(r0, c0) * (1 - wc) + gather(r0, c0 + 1) * wc
    bottom = gather(r0 + 1, c0) * (1 - wc) + gather(r0 + 1, c0 + 1) * wc
    return (top * (1 - wr) + bottom * wr).astype(dtype, copy=False)


class RandomRotation(RandomTransform):
    """Rotate each image by its own random angle θ ~ Uniform(lo, hi) degrees.

    Small angles (5 to 15 degrees) teach a digit classifier that a slanted 7
    is still a 7. See :func:`rotate` for the sampling grid and the
    interpolation.

    Args:
        degrees: ``d`` for θ in [-d, d], or a pair ``(lo, hi)``.
        interpolation: ``"nearest"`` or ``"bilinear"``.
        fill: value of pixels rotated in from outside the image.
        seed, generator: the random source (see the module docstring).
    """

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: str = "nearest",
        fill: float = 0.0,
        seed=None,
        generator=None,
    ):
        super().__init__(seed, generator)
        low, high = (-degrees, degrees) if np.isscalar(degrees) else tuple(degrees)
        if low > high:
            raise ValueError(f"degrees must be d >= 0 or a pair lo <= hi, got {degrees!r}")
        _check_interpolation(interpolation)
        self.degrees = (float(low), float(high))
        self.interpolation, self.fill = interpolation, fill

    def apply(self, batch: np.ndarray) -> np.ndarray:
        angles = self.generator.uniform(*self.degrees, size=len(batch))
        return rotate(batch, angles, self.interpolation, self.fill)

    def extra_repr(self) -> str:
        return f"degrees={self.degrees}, interpolation={self.interpolation!r}, fill={self.fill}"


def _random_crop(batch, size, padding, fill, generator):
    """Pad by ``padding``, then cut one random ``size`` window from each image."""
    (pad_h, pad_w), (height, width) = padding, size
    padded = np.pad(batch, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)), constant_values=fill)
    room_h, room_w = padded.shape[2] - height, padded.shape[3] - width
    if room_h < 0 or room_w < 0:
        raise ValueError(
            f"crop size {size} is larger than the padded image {padded.shape[2:]} "
            f"(input {batch.shape[2:]}, padding {padding})"
        )
    n = len(batch)
    top = generator.integers(0, room_h, size=n, endpoint=True)
    left = generator.integers(0, room_w, size=n, endpoint=True)
    rows = (top[:, None] + np.arange(height))[:, :, None]  # (N, h, 1)
    cols = (left[:, None] + np.arange(width))[:, None, :]  # (N, 1, w)
    return padded[np.arange(n)[:, None, None], :, rows, cols].transpose(0, 3, 1, 2)


class RandomCrop(RandomTransform):
    """Cut a random ``size`` window from each image, after padding it.

    With ``padding=p`` each image is first surrounded by ``p`` pixels of
    ``fill``; cropping back to the original size then moves the content by
    up to ``p`` pixels in each direction (the classic CIFAR augmentation:
    ``RandomCrop(32, padding=4)``).

    Args:
        size: output ``(height, width)``, or one int for a square.
        padding: pixels added on every side, one int or ``(pad_h, pad_w)``.
        fill: value of the padding.
        seed, generator: the random source (see the module docstring).
    """

    def __init__(self, size, padding=0, fill: float = 0.0, seed=None, generator=None):
        super().__init__(seed, generator)
        self.size, self.padding = pair(size, "RandomCrop", "size"), pair(padding, "RandomCrop", "padding")
        self.fill = fill

    def apply(self, batch: np.ndarray) -> np.ndarray:
        return _random_crop(batch, self.size, self.padding, self.fill, self.generator)

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}, fill={self.fill}"


class RandomShift(RandomTransform):
    """Move each image by a random whole number of pixels, keeping its size.

    Sample offsets ``dy, dx`` uniformly from ``-max_shift..max_shift``;
    ``x'[i, j] = x[i - dy, j - dx]``, and pixels moved in from outside are
    ``fill``. Equal to ``RandomCrop(size=(H, W), padding=max_shift)``.

    Args:
        max_shift: the largest shift, one int or ``(max_dy, max_dx)``.
        fill: value of pixels moved in from outside.
        seed, generator: the random source (see the module docstring).
    """

    def __init__(self, max_shift, fill: float = 0.0, seed=None, generator=None):
        super().__init__(seed, generator)
        self.max_shift, self.fill = pair(max_shift, "RandomShift", "max_shift"), fill

    def apply(self, batch: np.ndarray) -> np.ndarray:
        return _random_crop(batch, batch.shape[2:], self.max_shift, self.fill, self.generator)

    def extra_repr(self) -> str:
        return f"max_shift={self.max_shift}, fill={self.fill}"


class GaussianNoise(RandomTransform):
    """Add independent Gaussian noise to every pixel: ``x' = x + ε``, ``ε ~ N(0, std²)``.

    Like Keras's ``GaussianNoise`` layer but applied to the data: the model
    must not rely on exact pixel values.

    Args:
        std: standard deviation of the noise (``>= 0``).
        seed, generator: the random source (see the module docstring).
    """

    def __init__(self, std: float = 0.1, seed=None, generator=None):
        super().__init__(seed, generator)
        if std < 0:
            raise ValueError(f"std must be >= 0, got {std}")
        self.std = std

    def apply(self, batch: np.ndarray) -> np.ndarray:
        dtype = _float_dtype(batch)
        draw = np.float64 if dtype == np.float64 else np.float32  # what numpy can draw
        noise = self.generator.standard_normal(batch.shape, dtype=draw).astype(dtype, copy=False)
        return batch.astype(dtype, copy=False) + dtype.type(self.std) * noise

    def extra_repr(self) -> str:
        return f"std={self.std}"

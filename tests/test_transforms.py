"""soma.transforms: shapes, determinism under a seed, and exact pixel results."""

import numpy as np
import pytest

from soma import transforms as T


def images(n=6, c=2, h=5, w=5, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


RANDOM_TRANSFORMS = [
    lambda seed: T.RandomHorizontalFlip(seed=seed),
    lambda seed: T.RandomVerticalFlip(seed=seed),
    lambda seed: T.RandomRotation(30, seed=seed),
    lambda seed: T.RandomRotation((-20, 20), interpolation="bilinear", seed=seed),
    lambda seed: T.RandomCrop(5, padding=2, seed=seed),
    lambda seed: T.RandomShift(2, seed=seed),
    lambda seed: T.GaussianNoise(0.1, seed=seed),
]


@pytest.mark.parametrize("make", RANDOM_TRANSFORMS)
def test_random_transforms_keep_shape_and_dtype_and_repeat_under_a_seed(make):
    x = images(n=32)
    first, second = make(7)(x), make(7)(x)
    assert first.shape == x.shape and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, make(8)(x))  # another seed, other draws
    single = make(7)(x[0])  # one image (C, H, W)
    assert single.shape == x[0].shape


def test_generator_is_shared_and_advances():
    generator = np.random.default_rng(0)
    flip = T.RandomHorizontalFlip(generator=generator)
    assert flip.generator is generator
    x = images(n=64)
    assert not np.array_equal(flip(x), flip(x))  # a new draw every call
    with pytest.raises(ValueError, match="not both"):
        T.RandomHorizontalFlip(seed=1, generator=generator)


def test_horizontal_flip_mirrors_exactly_the_drawn_samples():
    x = np.arange(2 * 1 * 2 * 3).reshape(2, 1, 2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x)[0, 0], [[2, 1, 0], [5, 4, 3]])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x)[1, 0], [[9, 10, 11], [6, 7, 8]])
    x = images(n=200)
    out = T.RandomHorizontalFlip(p=0.5, seed=3)(x)
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    kept = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped | kept) and 70 < flipped.sum() < 130


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_zero_is_identity(interpolation):
    x = images()
    np.testing.assert_allclose(T.rotate(x, 0.0, interpolation), x, atol=1e-6)
    np.testing.assert_allclose(T.RandomRotation(0, interpolation=interpolation)(x), x, atol=1e-6)


@pytest.mark.parametrize("size", [4, 5])  # even and odd: centre on a pixel corner or a pixel
@pytest.mark.parametrize("k", [1, 2, 3, -1])
def test_rotation_by_multiples_of_90_equals_rot90(size, k):
    x = images(h=size, w=size)
    expected = np.rot90(x, k, axes=(2, 3))
    np.testing.assert_array_equal(T.rotate(x, 90 * k), expected)
    np.testing.assert_allclose(T.rotate(x, 90 * k, "bilinear"), expected, atol=1e-5)
    np.testing.assert_array_equal(T.RandomRotation((90 * k, 90 * k))(x), expected)


def test_rotation_angles_per_sample_and_fill():
    x = np.ones((2, 1, 4, 4), dtype=np.float32)
    out = T.rotate(x, np.array([0.0, 45.0]), fill=-1.0)
    np.testing.assert_array_equal(out[0], x[0])
    corners = out[1, 0, [0, 0, 3, 3], [0, 3, 0, 3]]
    np.testing.assert_array_equal(corners, -1.0)  # rotated in from outside
    assert out[1, 0, 1:3, 1:3].min() == 1.0  # the centre stays inside


def test_rotation_matches_a_per_pixel_loop():
    x = images(n=1, c=1, h=6, w=7)
    angle = 23.0
    out = T.rotate(x, angle)[0, 0]
    theta = np.deg2rad(angle)
    cy, cx = 2.5, 3.0
    for i in range(6):
        for j in range(7):
            u, v = j - cx, i - cy
            col = int(np.rint(np.cos(theta) * u - np.sin(theta) * v + cx))
            row = int(np.rint(np.sin(theta) * u + np.cos(theta) * v + cy))
            inside = 0 <= row < 6 and 0 <= col < 7
            assert out[i, j] == (x[0, 0, row, col] if inside else 0.0)


def test_crop_with_padding_holds_the_image_and_the_fill():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    x = np.repeat(x, 50, axis=0)
    out = T.RandomCrop(4, padding=1, fill=0.0, seed=0)(x)
    assert out.shape == (50, 1, 4, 4)
    windows = {
        (dy, dx): np.pad(x[0, 0], 1)[1 + dy : 5 + dy, 1 + dx : 5 + dx]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    }
    seen = set()
    for sample in out[:, 0]:  # every crop is one of the 9 windows of the padded image
        matches = [key for key, window in windows.items() if np.array_equal(sample, window)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == 9
    small = T.RandomCrop((2, 3), seed=0)(x)
    assert small.shape == (50, 1, 2, 3)
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(6, padding=0)(x)


def test_shift_moves_content_by_at_most_max_shift():
    x = np.zeros((40, 1, 9, 9), dtype=np.float32)
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the centre
    out = T.RandomShift(2, seed=0)(x)
    _, rows, cols = np.nonzero(out[:, 0])
    assert out.sum() == 40  # nothing lost: the dot stays inside
    assert rows.min() >= 2 and rows.max() <= 6 and cols.min() >= 2 and cols.max() <= 6
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 10


def test_gaussian_noise_statistics():
    x = np.full((20, 3, 32, 32), 0.5, dtype=np.float32)
    noise = T.GaussianNoise(0.2, seed=0)(x) - x
    assert noise.dtype == np.float32
    assert abs(noise.mean()) < 0.005
    assert noise.std() == pytest.approx(0.2, rel=0.02)
    np.testing.assert_array_equal(T.GaussianNoise(0.0, seed=0)(x), x)


def test_normalize_values_per_channel():
    x = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)])[None].astype(np.float32)
    out = T.Normalize(mean=[0.5, 1.0], std=[0.5, 4.0])(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], 1.0)
    np.testing.assert_allclose(out[0, 1], 0.5)
    np.testing.assert_allclose(T.Normalize(0.1307, 0.3081)(x[0])[0], (1.0 - 0.1307) / 0.3081)
    assert T.Normalize(0, 1)(np.zeros((1, 2, 2), dtype=np.uint8)).dtype == np.float32
    with pytest.raises(ValueError, match="channels"):
        T.Normalize([0, 0, 0], [1, 1, 1])(x)
    with pytest.raises(ValueError, match="nonzero"):
        T.Normalize(0, 0)


def test_compose_applies_in_order_and_reprs_read_well():
    x = images()
    pipeline = T.Compose([T.Normalize(0.5, 0.25), T.RandomHorizontalFlip(p=1.0)])
    np.testing.assert_allclose(pipeline(x), ((x - 0.5) / 0.25)[..., ::-1], rtol=1e-6)
    text = repr(pipeline)
    assert text.startswith("Compose([") and "Normalize(mean=[0.5], std=[0.25])" in text
    assert "RandomHorizontalFlip(p=1.0)" in text
    assert (
        repr(T.RandomCrop(28, padding=2)) == "RandomCrop(size=(28, 28), padding=(2, 2), fill=0.0)"
    )
    assert "degrees=(-10.0, 10.0)" in repr(T.RandomRotation(10))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        T.RandomHorizontalFlip()(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="interpolation"):
        T.RandomRotation(10, interpolation="cubic")
    with pytest.raises(ValueError, match="probability"):
        T.RandomHorizontalFlip(p=2)
    with pytest.raises(ValueError, match="std"):
        T.GaussianNoise(-1)


def test_whole_batch_is_fast():
    import time

    x = images(n=256, c=1, h=28, w=28)
    augment = T.Compose([T.RandomShift(2, seed=0), T.RandomRotation(15, "bilinear", seed=1)])
    start = time.perf_counter()
    augment(x)
    assert time.perf_counter() - start < 1.0  # vectorized: milliseconds, not a loop per pixel

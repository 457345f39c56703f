"""The IDX file format of MNIST: read, write, check.

An IDX file is a header followed by the array, big-endian, row-major::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16,
                0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4 bytes     size of dimension 0 (big-endian uint32), ... d times
    then        prod(sizes) elements

Read as one big-endian int32, the first four bytes are the "magic number":
2051 (0x00000803) for MNIST's images (uint8, 3 dimensions) and 2049
(0x00000801) for its labels (uint8, 1 dimension). Files may be gzipped; a
reader recognises gzip by its own magic bytes ``1f 8b``, not by the name.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_TO_CODE = {dtype.newbyteorder("="): code for code, dtype in _CODE_TO_DTYPE.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never half-written.

    The bytes go to a temporary file in the same folder, which then replaces
    ``path`` in one ``os.replace`` (atomic on POSIX and Windows); a crash or a
    failed download leaves the old file, or none, never a truncated one.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


#: the most a DEFLATE stream can expand (1032:1), with room for gzip's own headers
_GZIP_MAX_RATIO = 1100


def _header(data: bytes, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """``(dtype, shape, header length)`` from the first ``4 + 4·d`` bytes of an IDX file."""
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise ValueError(
            f"{name} is not an IDX file: it must start with bytes 00 00, got {data[:4].hex(' ')}"
        )
    code, ndim = data[2], data[3]
    if code not in _CODE_TO_DTYPE:
        raise ValueError(f"{name}: unknown IDX element type 0x{code:02X}")
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise ValueError(f"{name}: truncated IDX header ({len(data)} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    return _CODE_TO_DTYPE[code], shape, offset


def _payload_size(dtype: np.dtype, shape: tuple[int, ...]) -> int:
    size = dtype.itemsize
    for dim in shape:
        size *= dim
    return size


def _read_exactly(stream, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(min(left, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_bytes(path: str | os.PathLike) -> bytes:
    """The IDX contents of ``path``, decompressed when it is gzipped, read no further than its header says.

    The header is read first; then exactly the bytes it declares, so a gzip bomb (a small
    file that inflates to gigabytes) fails after inflating no more than that, and a header
    declaring more than the file could hold fails before anything large is allocated.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not an IDX file, a gzipped file that is corrupt, truncated or longer than
            its header says, or a plain file whose size does not match its header (the
            message names the file).
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise ValueError(f"{path} is not a regular file")
    size = path.stat().st_size
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if compressed else raw
        try:
            head = _read_exactly(stream, 4)
            head += _read_exactly(stream, 4 * head[3]) if len(head) == 4 else b""
            dtype, shape, offset = _header(head, str(path))
            expected = _payload_size(dtype, shape)
            if compressed and expected > size * _GZIP_MAX_RATIO:
                raise ValueError(
                    f"{path}: the header gives shape {shape} ({expected} bytes), more than a gzip file "
                    f"of {size} bytes can hold; it is corrupt"
                )
            if not compressed and size - offset != expected:
                raise ValueError(
                    f"{path}: the header gives shape {shape} ({expected} bytes of data) but the file "
                    f"holds {size - offset} bytes after the header; it is truncated or corrupt"
                )
            body = _read_exactly(stream, expected)
            extra = stream.read(1)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from error
    if len(body) < expected:
        raise ValueError(f"{path}: truncated: the header gives {expected} bytes of data, the file holds {len(body)}")
    if extra:
        raise ValueError(f"{path}: holds more data than its header gives (shape {shape}, {expected} bytes)")
    return head + body


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array stored in the (uncompressed) IDX bytes ``data``.

    Args:
        data: a whole IDX file, header and elements.
        name: what to call the file in error messages.

    Returns:
        A writable array in native byte order, of the shape the header gives.

    Raises:
        ValueError: bad magic number, unknown element type, or a size that does
            not match the header (a truncated or padded file).
    """
    dtype, shape, offset = _header(data, name)
    expected = _payload_size(dtype, shape)
    if len(data) - offset != expected:
        raise ValueError(
            f"{name}: the header gives shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(data) - offset} bytes after the header; it is truncated or corrupt"
        )
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a NumPy array.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "x-idx2-ubyte.gz"
        >>> write_idx(path, np.arange(6, dtype=np.uint8).reshape(2, 3))
        >>> read_idx(path).tolist()
        [[0, 1, 2], [3, 4, 5]]
    """
    return parse_idx(read_bytes(path), name=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes (header and big-endian elements) of ``array``."""
    array = np.asarray(array)
    code = _DTYPE_TO_CODE.get(array.dtype.newbyteorder("="))
    if code is None:
        supported = ", ".join(str(d) for d in _DTYPE_TO_CODE)
        raise TypeError(f"IDX cannot store dtype {array.dtype}; use one of {supported}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX stores 1 to 255 dimensions, got an array of shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(_CODE_TO_DTYPE[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``.

    The write is atomic (see :func:`atomic_write`), and gzip output carries
    no timestamp, so the same array always gives the same bytes.

    Args:
        path: where to write; a ``.gz`` suffix selects gzip compression.
        array: uint8, int8, int16, int32, float32 or float64, 1 to 255 dimensions.
    """
    data = encode_idx(array)
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    atomic_write(path, data)

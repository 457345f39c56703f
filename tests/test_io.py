"""soma.save / soma.load: structures in one safetensors file, atomic writes, header-first reads, no unpickling.

Tested as a fault injector would: killed writers, full disks, Rust panics, FIFOs, devices, lying headers.
"""

import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import soma
from soma.tensor import Tensor


def _same(a, b):
    """Equal structure, types, shapes, dtypes and values (NaN equal to NaN)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, (Tensor, np.ndarray, np.generic)):
        x, y = (v.numpy() if isinstance(v, Tensor) else np.asarray(v) for v in (a, b))
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b


def test_round_trip_keeps_names_dtypes_and_values(tmp_path):
    state = {
        "w": soma.randn(3, 4),
        "b": soma.zeros(4, dtype=soma.float64),
        "steps": soma.tensor([7]),
        "mask": soma.tensor([True, False]),
        "count": soma.tensor(3),  # 0-d, like BatchNorm's num_batches_tracked
        "transposed": soma.randn(3, 2).T,  # not contiguous
        "empty": soma.zeros(0, 3),
    }
    path = tmp_path / "model.safetensors"
    soma.save(state, path)
    loaded = soma.load(path)
    _same(state, loaded)
    assert loaded["w"]._array.flags.writeable


def test_a_whole_checkpoint_structure_comes_back_exactly(tmp_path):
    checkpoint = {
        "model": {"0.weight": soma.randn(2, 3), "1.num_batches_tracked": soma.tensor(5)},
        "optimizer": {
            "state": {0: {"step": soma.tensor(3.0), "exp_avg": soma.randn(2, 3)}, 1: {}},
            "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1], "foreach": None}],
        },
        "epoch": 3,
        "best": float("inf"),
        "nan": float("nan"),
        "flags": [True, False, None, "text", 2.5, -7],
        "nested": ((1, 2), [(), {}], {"x": (soma.tensor([1, 2]),)}),
        "keys": {1: "one", 2.5: "float", False: "bool", None: "none", "s": "str"},
        "numpy": np.arange(6, dtype=np.int16).reshape(2, 3),
        "scalar": np.float32(0.25),
        "big_endian": np.arange(3, dtype=">f8"),
        "huge_int": 2**62 + 1,
    }
    expected = dict(checkpoint, big_endian=np.arange(3, dtype="<f8"))
    path = tmp_path / "ckpt.safetensors"
    soma.save(checkpoint, path)
    _same(expected, soma.load(path))
    buffer = io.BytesIO()  # and through a file object, from where it stands
    buffer.write(b"prefix")
    soma.save(checkpoint, buffer)
    buffer.seek(6)
    _same(expected, soma.load(buffer))
    assert soma.load(io.BytesIO(soma.io.save_bytes(soma.tensor(2.0)))).shape == ()  # a bare tensor


def test_a_state_dict_is_a_plain_safetensors_file_for_other_readers(tmp_path):
    from safetensors.numpy import load_file, save_file

    state = {"0.weight": soma.randn(2, 3), "0.bias": soma.randn(2)}
    soma.save(state, tmp_path / "m.safetensors")
    foreign = load_file(tmp_path / "m.safetensors")
    assert set(foreign) == set(state)
    np.testing.assert_array_equal(foreign["0.weight"], state["0.weight"].numpy())
    save_file({"a": np.ones((2, 2), np.float32)}, tmp_path / "f.safetensors", metadata={"k": "v"})
    loaded, metadata = soma.load(tmp_path / "f.safetensors", with_metadata=True)
    assert list(loaded) == ["a"] and isinstance(loaded["a"], Tensor) and metadata == {"k": "v"}


def test_metadata_round_trip(tmp_path):
    path = tmp_path / "m.safetensors"
    soma.save({"x": soma.ones(1)}, path, metadata={"epoch": "3"})
    _, metadata = soma.load(path, with_metadata=True)
    assert metadata == {"epoch": "3"}
    with pytest.raises(ValueError, match="soma's own"):
        soma.save({"x": soma.ones(1)}, path, metadata={"soma.structure": "x"})


def test_pytorch_keywords_are_accepted_and_other_devices_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    soma.save({"w": soma.ones(2)}, path)
    for where in (None, "cpu", soma.device("cpu"), {"cuda:0": "cpu"}):
        assert soma.load(path, map_location=where, weights_only=True)["w"].tolist() == [1.0, 1.0]
    assert soma.load(path, map_location=lambda tensor, location: tensor * 2, weights_only=False)["w"].tolist() == [2, 2]
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        soma.load(path, map_location="cuda")


def test_bfloat16_from_safetensors_torch_is_upcast_to_float32(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    x = torch.randn(4, 5).to(torch.bfloat16)
    save_file({"x": x, "scalar": torch.tensor(1.5, dtype=torch.bfloat16)}, tmp_path / "bf16.safetensors")
    loaded = soma.load(tmp_path / "bf16.safetensors")
    assert loaded["x"].dtype == soma.float32 and loaded["scalar"].shape == ()
    np.testing.assert_array_equal(loaded["x"].numpy(), x.float().numpy())


def test_unsupported_values_are_refused_naming_where():
    with pytest.raises(TypeError, match="cannot store function at 'opt.f'"):
        soma.io.save_bytes({"opt": {"f": lambda: 0}})
    with pytest.raises(TypeError, match="dict keys"):
        soma.io.save_bytes({(1, 2): soma.ones(1)})
    with pytest.raises(TypeError, match="complex128"):
        soma.io.save_bytes({"z": np.ones(2, complex)})


def test_pickle_files_are_refused_without_being_executed(tmp_path):
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": Exploit()}))
    with pytest.raises(ValueError, match="never unpickles"):
        soma.load(path)
    assert not marker.exists()


def _file(header, data=b""):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "too short"),
        (b"abc", "too short"),
        (b"\xff" * 64, "header of"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{bad json}xxxxxx", "not JSON"),
        (struct.pack("<Q", 2**60) + b"{}", "header of 1152921504606846976 bytes"),
        (_file({"a": F32}, b"\0" * 4), "truncated"),
        (_file({"a": F32}, b"\0" * 12), "unexpected bytes"),
        (_file({"a": F32, "b": {**F32, "data_offsets": [4, 12]}}, b"\0" * 12), "overlaps"),
        (_file({"a": {**F32, "data_offsets": [4, 12]}}, b"\0" * 12), "gap at byte 0"),
        (_file({"a": {**F32, "shape": [3]}}, b"\0" * 8), "does not fit"),
        (_file({"a": {**F32, "shape": [-2]}}, b"\0" * 8), "shape"),
        (_file({"a": {**F32, "dtype": "F8_E4M3", "shape": [8]}}, b"\0" * 8), "dtype 'F8_E4M3'"),
        (_file({"a": {**F32, "dtype": "BOOL", "shape": [8]}}, b"\x02" * 8), "other than 0 and 1"),
        (_file({"a": F32, "__metadata__": {"k": 1}}, b"\0" * 8), "strings"),
        (_file({"a": F32, "__metadata__": {"soma.structure": '{"format": "soma/1", "structure": {"__tensor__": "zz"}}'}}, b"\0" * 8), "missing"),
        (_file({"a": F32, "__metadata__": {"soma.structure": '{"format": "soma/1", "structure": {"__dict__": []}}'}}, b"\0" * 8), "not part of"),
        (_file({"__metadata__": {"soma.structure": '{"format": "soma/1", "structure": ' + "[" * 5000 + "]" * 5000 + "}"}}), "nested"),
        (struct.pack("<Q", 200_006) + b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b"PK\x03\x04" + b"\0" * 60, "torch.save"),
    ],
)
def test_corrupt_files_give_clear_errors(tmp_path, payload, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        soma.load(path)
    with pytest.raises(ValueError, match=message):  # the same checks on a stream
        soma.load(io.BytesIO(payload))


def test_the_header_is_checked_before_any_data_is_read(tmp_path):
    path = tmp_path / "big.bin"
    with open(path, "wb") as file:  # 4 GB, sparse: a header that lies about the data
        file.write(_file({"a": {"dtype": "F32", "shape": [10], "data_offsets": [0, 40]}}))
        file.truncate(4 << 30)

    class Counting(io.FileIO):
        read_bytes = 0

        def readinto(self, buffer):
            n = super().readinto(buffer)
            Counting.read_bytes += n
            return n

    with Counting(path) as stream, pytest.raises(ValueError, match="unexpected bytes"):
        soma.load(stream)
    assert Counting.read_bytes < 1000


def test_non_regular_files_are_refused_at_once(tmp_path):
    with pytest.raises(ValueError, match="a device, not a regular file"):
        soma.load("/dev/zero")
    with pytest.raises(IsADirectoryError):
        soma.load(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code = f"import soma\ntry:\n    soma.load({str(fifo)!r})\nexcept ValueError as e:\n    print(e)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "is a FIFO, not a regular file" in done.stdout, done.stderr  # no writer: open would block forever


def test_loading_needs_about_the_file_size_in_memory(tmp_path):
    path = tmp_path / "big.safetensors"
    soma.save({"a": np.ones(12_000_000, np.float32), "b": np.ones(8_000_000, np.float32)}, path)
    code = textwrap.dedent(
        f"""
        import resource, soma
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        state = soma.load({str(path)!r})
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024 / {os.path.getsize(path)})
        """
    )
    ratio = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout)
    assert ratio < 1.3  # was ~3x: the whole file, then a copy of it, then the arrays


def test_truncated_file_is_reported_corrupt(tmp_path):
    path = tmp_path / "m.safetensors"
    soma.save({"w": soma.randn(100)}, path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="corrupt.*truncated"):
        soma.load(path)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_files_get_the_umask_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        soma.save({"w": soma.ones(2)}, tmp_path / "m.safetensors")
        soma.save({"w": soma.ones(2)}, tmp_path / "m.safetensors")  # and over an existing file
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "m.safetensors").st_mode & 0o777 == mode


def test_save_fsyncs_the_file_and_its_folder(tmp_path, monkeypatch):
    synced, real = [], os.fsync

    def record(fd):
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", record)
    soma.save({"w": soma.ones(2)}, tmp_path / "m.safetensors")
    assert len(synced) == 2 and ".m.safetensors.tmp-" in synced[0] and synced[1] == str(tmp_path)


def _left(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "where, error",
    [("replace", OSError("disk full")), ("write", OSError(28, "No space left on device")), ("fsync", KeyboardInterrupt())],
)
def test_a_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch, where, error):
    path = tmp_path / "m.safetensors"
    soma.save({"w": soma.ones(2)}, path)

    def crash(*args, **kwargs):
        raise error

    monkeypatch.setattr(os, where, crash)
    with pytest.raises(type(error)):
        soma.save({"w": soma.zeros(2)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(soma.load(path)["w"].numpy(), [1.0, 1.0])
    assert _left(tmp_path) == ["m.safetensors"]


@pytest.mark.parametrize("text, error", [("memory allocation of 1 GB failed", MemoryError), ("index out of bounds", OSError)])
def test_a_safetensors_panic_surfaces_as_a_python_error(tmp_path, monkeypatch, text, error):
    import safetensors.numpy

    PanicException = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})

    def panic(*args, **kwargs):
        raise PanicException(text)

    monkeypatch.setattr(safetensors.numpy, "save", panic)
    with pytest.raises(error, match=text):
        soma.save({"w": soma.ones(2)}, tmp_path / "m.safetensors")
    assert _left(tmp_path) == []


WRITER = textwrap.dedent(
    """
    import os, sys, time, soma
    real = os.fsync
    def stall(fd):
        if "tmp-" in os.readlink(f"/proc/self/fd/{fd}"):
            print("writing", flush=True)
            time.sleep(600)
        real(fd)
    os.fsync = stall
    soma.save({"w": soma.zeros(1_000_000)}, sys.argv[1])
    """
)


def _stalled_writer(tmp_path, target):
    script = tmp_path.parent / f"{tmp_path.name}-writer.py"
    script.write_text(WRITER)
    process = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "writing\n"  # the full-size temporary is on disk now
    return process


@pytest.mark.slow
def test_a_writer_killed_mid_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "m.safetensors"
    soma.save({"w": soma.ones(3)}, target)
    for _ in range(2):  # a loop of kills used to leave one full-size temporary each
        process = _stalled_writer(tmp_path, target)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    temporaries = [name for name in _left(tmp_path) if name != "m.safetensors"]
    assert len(temporaries) == 1 and temporaries[0].startswith(".m.safetensors.tmp-")  # each save cleans up
    assert soma.load(target)["w"].tolist() == [1.0, 1.0, 1.0]  # the old file, intact
    (tmp_path / ".other.safetensors.tmp-1-abc").write_bytes(b"x")  # another target's: not ours to touch
    soma.save({"w": soma.full((3,), 2.0)}, target)
    assert _left(tmp_path) == [".other.safetensors.tmp-1-abc", "m.safetensors"]
    assert soma.load(target)["w"].tolist() == [2.0, 2.0, 2.0]


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    target = tmp_path / "m.safetensors"
    process = _stalled_writer(tmp_path, target)
    try:
        soma.save({"w": soma.ones(3)}, target)
        assert len([n for n in _left(tmp_path) if n.startswith(".m.safetensors.tmp-")]) == 1
    finally:
        process.kill()
        process.wait(timeout=30)


def test_save_writes_through_a_symlink(tmp_path):
    target = tmp_path / "real.safetensors"
    soma.save({"w": soma.ones(1)}, target)
    (tmp_path / "link.safetensors").symlink_to(target)
    soma.save({"w": soma.zeros(1)}, tmp_path / "link.safetensors")
    assert (tmp_path / "link.safetensors").is_symlink() and soma.load(target)["w"].tolist() == [0.0]

"""soma.save / soma.load: safetensors round trips, atomic writes, no unpickling."""

import os
import pickle

import numpy as np
import pytest

import soma


def test_round_trip_keeps_names_dtypes_and_values(tmp_path):
    state = {
        "w": soma.randn(3, 4),
        "b": soma.zeros(4, dtype=soma.float64),
        "steps": soma.tensor([7]),
        "mask": soma.tensor([True, False]),
        "count": soma.tensor(3),  # 0-d, like BatchNorm's num_batches_tracked
        "transposed": soma.randn(3, 2).T,  # not contiguous
    }
    path = tmp_path / "model.safetensors"
    soma.save(state, path)
    loaded = soma.load(path)
    assert set(loaded) == set(state)
    for name, value in state.items():
        assert loaded[name].dtype == value.dtype and loaded[name].shape == value.shape
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())
    assert loaded["w"]._array.flags.writeable


def test_metadata_round_trip(tmp_path):
    path = tmp_path / "m.safetensors"
    soma.io.save({"x": soma.ones(1)}, path, metadata={"epoch": "3"})
    _, metadata = soma.io.load(path, with_metadata=True)
    assert metadata == {"epoch": "3"}


def test_pickle_files_are_refused_without_being_executed(tmp_path):
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": Exploit()}))
    with pytest.raises(ValueError, match="not a safetensors file"):
        soma.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [b"", b"abc", b"\xff" * 64, b"\x10\x00\x00\x00\x00\x00\x00\x00{bad json}xxxx"])
def test_corrupt_files_give_clear_errors(tmp_path, payload):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="safetensors|corrupt"):
        soma.load(path)


def test_truncated_file_is_reported_corrupt(tmp_path):
    path = tmp_path / "m.safetensors"
    soma.save({"w": soma.randn(100)}, path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="corrupt"):
        soma.load(path)


def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    soma.save({"w": soma.ones(2)}, path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        soma.save({"w": soma.zeros(2)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(soma.load(path)["w"].numpy(), [1.0, 1.0])
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary left behind


def test_bad_state_is_rejected():
    with pytest.raises(TypeError, match="dict"):
        soma.io.save_bytes([soma.ones(1)])
    with pytest.raises(TypeError, match="only tensors"):
        soma.io.save_bytes({"lr": 0.1})

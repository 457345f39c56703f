"""Reading torch.save files without torch's unpickler: malicious files are refused and run nothing;
real checkpoints (models, optimizers; zip and legacy formats) load into soma and give PyTorch's outputs."""

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.optim as optim
from helpers import randomize_module
from soma._torch_load import UnsafeTorchFileError, is_torch_file, load_torch


# ------------------------------------------------------------------ forging files by hand
class Storage:
    """Pickled as PyTorch's persistent id ('storage', <type>, key, location, numel)."""

    def __init__(self, key, numel, kind=torch.FloatStorage, location="cpu"):
        self.key, self.numel, self.kind, self.location = key, numel, kind, location


class View:
    """Pickled as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.kind, obj.key, obj.location, obj.numel)
        return None


def forge(obj, storages=None, byteorder="little", prefix="archive", extra=None):
    """A zip in torch.save's layout: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/byteorder."""
    payload = io.BytesIO()
    _Pickler(payload, protocol=2).dump(obj)
    return zip_of({"data.pkl": payload.getvalue(), "byteorder": byteorder.encode(), **(extra or {}),
                   **{f"data/{k}": v for k, v in (storages or {}).items()}}, prefix)


def zip_of(entries, prefix="archive"):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(f"{prefix}/{name}", data)
    return out.getvalue()


def floats(values, dtype="<f4"):
    return np.asarray(values, dtype).tobytes()


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class Nested:
    def __init__(self, inner):
        self.inner = inner

    def __reduce__(self):
        return pickle.loads, (self.inner,)


# ------------------------------------------------------------------ malicious files
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_reduce_to_os_system_is_refused_and_runs_nothing(tmp_path, legacy):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.ones(2), "payload": Evil(marker)}, path, _use_new_zipfile_serialization=not legacy)
    assert is_torch_file(path)
    with pytest.raises(UnsafeTorchFileError, match=r"posix\.system"):
        load_torch(path)
    with pytest.raises(pickle.UnpicklingError, match="nothing was executed"):
        load_torch(path)
    assert not marker.exists()
    # the file really is dangerous: PyTorch's full unpickler runs the command
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_nested_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "nested.pt"
    torch.save({"inner": Nested(pickle.dumps(Evil(marker)))}, path)
    with pytest.raises(UnsafeTorchFileError, match=r"global _?pickle\.loads"):
        load_torch(path)
    assert not marker.exists()


def test_pickle_bytes_in_a_storage_are_only_numbers(tmp_path):
    marker = tmp_path / "pwned"
    inner = pickle.dumps(Evil(marker))
    inner += b"\0" * (-len(inner) % 4)
    data = forge({"w": View(Storage("0", len(inner) // 4), 0, [len(inner) // 4], [1])}, {"0": inner})
    loaded = load_torch(io.BytesIO(data))
    np.testing.assert_array_equal(loaded["w"].numpy(), np.frombuffer(inner, "<f4"))
    assert not marker.exists()


@pytest.mark.parametrize("module,name", [
    ("builtins", "eval"), ("builtins", "getattr"), ("os", "system"), ("subprocess", "Popen"), ("torch", "load"),
    ("numpy.core.multiarray", "_reconstruct"), ("torch._utils", "_rebuild_sparse_tensor"),
    ("torch.nn.modules.linear", "Linear"), ("torch", "EvilStorage"), ("collections", "defaultdict"),
])
def test_any_other_global_is_refused_by_name(module, name):
    data = zip_of({"data.pkl": b"\x80\x02c" + f"{module}\n{name}\n".encode() + b")R."})
    with pytest.raises(UnsafeTorchFileError, match=f"{module}.{name}".replace(".", r"\.")):
        load_torch(io.BytesIO(data))


def test_state_cannot_be_set_on_allowed_objects():
    # BUILD on the rebuild function (would change it for every later load) is refused
    data = zip_of({"data.pkl": b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}X\x01\x00\x00\x00aK\x01sb."})
    with pytest.raises(UnsafeTorchFileError, match="refusing to set state"):
        load_torch(io.BytesIO(data))


@pytest.mark.parametrize("obj,storages,match", [
    ({"w": View(Storage("0", 1000), 0, [1000], [1])}, {"0": floats(range(6))}, "declares 1000 elements"),
    ({"w": View(Storage("0", 6), 0, [6], [1])}, {}, "has no archive/data/0"),
    ({"w": View(Storage("0", 6, kind=torch.DoubleStorage), 0, [6], [1])}, {"0": floats(range(6))},
     "declares 6 elements of float64"),
    ({"w": View(Storage("0", 6), 4, [3], [1])}, {"0": floats(range(6))}, "outside the storage"),
    ({"w": View(Storage("0", 6), 0, [2, 3], [4, 1])}, {"0": floats(range(6))}, "outside the storage"),
    ({"w": View(Storage("0", 6), 0, [3], [-1])}, {"0": floats(range(6))}, "negative"),
    ({"w": View(Storage("0", 6), -2, [3], [1])}, {"0": floats(range(6))}, "negative"),
    ({"w": View(Storage("0", 10**15), 0, [10**15], [1])}, {"0": floats(range(6))}, "declares 1000000000000000"),
    ({"w": View(Storage("0", 6), 0, [10**6, 10**6], [0, 0])}, {"0": floats(range(6))}, "repeat a storage"),
    ({"w": View(Storage("../x", 6), 0, [6], [1])}, {}, "malformed storage"),
    ({"w": View(Storage("0", -1), 0, [1], [1])}, {}, "malformed storage"),
    ({"w": View(Storage("0", 6), 0.5, [6], [1])}, {"0": floats(range(6))}, "offset must be an int"),
    ({"w": View(Storage("0", 6), 0, [6, 1], [1])}, {"0": floats(range(6))}, "bad size"),
], ids=["numel>data", "missing-data", "wrong-type", "offset", "stride", "negative-stride", "negative-offset",
        "huge-storage", "huge-expanded-view", "key-path", "negative-numel", "float-offset", "rank-mismatch"])
def test_forged_storages_and_views_are_refused(obj, storages, match):
    with pytest.raises(ValueError, match=match):
        load_torch(io.BytesIO(forge(obj, storages)))


def test_legacy_file_with_a_huge_storage_count_is_refused(tmp_path):
    path = tmp_path / "legacy.pt"
    torch.save({"w": torch.arange(6.0)}, path, _use_new_zipfile_serialization=False)
    raw = bytearray(path.read_bytes())
    count = (6).to_bytes(8, "little") + np.arange(6, dtype="<f4").tobytes()
    at = raw.rindex(count)
    truncated = bytes(raw[: at + 8 + 10])
    with pytest.raises(ValueError, match="needs 24 bytes"):
        load_torch(io.BytesIO(truncated))
    raw[at: at + 8] = (10**15).to_bytes(8, "little")
    with pytest.raises(ValueError, match="declares 6 elements but its data says 1000000000000000"):
        load_torch(io.BytesIO(bytes(raw)))


@pytest.mark.parametrize("data,match", [
    (zip_of({"other.txt": b"hi"}), "no single data.pkl"),
    (zip_of({"data.pkl": b"\x80\x02]q\x00h\x00a."}), "cycle"),
    (zip_of({"data.pkl": b"\x80\x02}q\x00(X"}), "corrupt"),
    (b"PK\x03\x04 truncated", "torch.save zip archive but is not a readable zip"),
    (zip_of({"data.pkl": b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b"."}), "nested too deeply"),
    (zip_of({"data.pkl": b"\x80\x02(X\x07\x00\x00\x00storageq\x00tQ."}), "persistent id that is not a storage"),
], ids=["no-pickle", "cycle", "truncated-pickle", "bad-zip", "deep-nesting", "bad-persistent-id"])
def test_corrupt_files_fail_clearly(data, match):
    with pytest.raises(ValueError, match=match):
        load_torch(io.BytesIO(data))


# ------------------------------------------------------------------ real torch.save files
def test_dtypes_views_and_shared_storage_round_trip(tmp_path):
    base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    saved = {
        "f64": base, "t": base.t(), "slice": base[1:, ::2], "expanded": torch.ones(3).expand(4, 3),
        "f32": torch.randn(2, 3), "f16": torch.randn(4).half(), "bf16": torch.randn(5).bfloat16(),
        "i64": torch.arange(5), "i32": torch.arange(3, dtype=torch.int32), "u8": torch.arange(4, dtype=torch.uint8),
        "bool": torch.tensor([True, False]), "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3),
        "param": torch.nn.Parameter(torch.randn(2)), "frozen": torch.nn.Parameter(torch.ones(1), requires_grad=False),
        "grad": torch.ones(2, requires_grad=True),
        "plain": [1, 2.5, "x", None, True, (3, 4)], "dtype": torch.float16, "size": torch.Size([2, 3]),
    }
    for legacy in (False, True):
        path = tmp_path / f"all{legacy}.pt"
        torch.save(saved, path, _use_new_zipfile_serialization=not legacy)
        loaded = load_torch(str(path))
        assert list(loaded) == list(saved)
        for key, value in saved.items():
            if isinstance(value, torch.Tensor):
                ours = loaded[key]
                expected = value.detach().float() if value.dtype == torch.bfloat16 else value.detach()
                assert tuple(ours.shape) == tuple(value.shape), key
                assert ours.dtype == np.dtype(str(expected.dtype).replace("torch.", "")), key
                np.testing.assert_array_equal(ours.detach().numpy(), expected.numpy(), err_msg=key)
                assert ours.requires_grad == value.requires_grad, key
                assert isinstance(ours, nn.Parameter) == isinstance(value, torch.nn.Parameter), key
        assert loaded["plain"] == saved["plain"] and loaded["size"] == (2, 3) and loaded["dtype"] == soma.float16


def _conv_net(lib):
    return lib.nn.Sequential(lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(),
                             lib.nn.Flatten(), lib.nn.Linear(4 * 5 * 5, 3), lib.nn.BatchNorm1d(3))


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_pytorch_checkpoint_gives_the_same_outputs_in_soma(tmp_path, legacy):
    ref = _conv_net(torch).double()
    randomize_module(ref)  # BatchNorm's constant-initialised weights and running statistics too
    ref.eval()
    path = tmp_path / "conv.pt"
    torch.save(ref.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    model = _conv_net(soma).double()
    model.load_state_dict(load_torch(path))
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 5))
    np.testing.assert_allclose(model(soma.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_pytorch_lstm_checkpoint_gives_the_same_outputs(tmp_path):
    ref = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    path = tmp_path / "lstm.pt"
    torch.save(ref.state_dict(), path)
    model = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    state = load_torch(path)
    assert list(state) == list(model.state_dict())
    model.load_state_dict(state)
    x = np.random.default_rng(1).standard_normal((4, 2, 3)).astype(np.float32)
    out, (h, c) = model(soma.tensor(x))
    ref_out, (ref_h, ref_c) = ref(torch.tensor(x))
    for ours, theirs in [(out, ref_out), (h, ref_h), (c, ref_c)]:
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_training_checkpoint_with_optimizer_resumes_as_pytorch(tmp_path):
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.01, amsgrad=True)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((6, 8, 4)), rng.standard_normal((6, 8, 2))

    def train(model, opt, lib, batches):
        for xs, ys in batches:
            opt.zero_grad()
            lib.nn.functional.mse_loss(model(lib.tensor(xs)), lib.tensor(ys)).backward()
            opt.step()

    train(ref, ref_opt, torch, zip(x[:3], y[:3]))
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": ref.state_dict(), "optimizer": ref_opt.state_dict(), "epoch": 3}, path)
    checkpoint = load_torch(path, map_location="cpu")
    assert checkpoint["epoch"] == 3
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    model.load_state_dict(checkpoint["model"])
    opt = optim.Adam(model.parameters(), lr=0.5, amsgrad=True)
    opt.load_state_dict(checkpoint["optimizer"])
    assert opt.param_groups[0]["lr"] == 0.01 and opt.state[model[0].weight]["step"] == 3
    train(ref, ref_opt, torch, zip(x[3:], y[3:]))
    train(model, opt, soma, zip(x[3:], y[3:]))
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_map_location(tmp_path):
    on_gpu = forge({"w": View(Storage("0", 3, location="cuda:0"), 0, [3], [1])}, {"0": floats([1, 2, 3])})
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        load_torch(io.BytesIO(on_gpu))
    for where in ["cpu", soma.device("cpu"), {"cuda:0": "cpu"}]:
        assert load_torch(io.BytesIO(on_gpu), map_location=where)["w"].tolist() == [1, 2, 3]
    seen = []
    moved = load_torch(io.BytesIO(on_gpu), map_location=lambda t, location: seen.append(location) or t * 2)
    assert moved["w"].tolist() == [2, 4, 6] and seen == ["cuda:0"]
    with pytest.raises(RuntimeError, match="cuda"):
        load_torch(io.BytesIO(on_gpu), map_location="cuda")


def test_big_endian_archive():
    data = forge({"w": View(Storage("0", 3, kind=torch.DoubleStorage), 0, [3], [1])},
                 {"0": np.array([1.5, -2, 3], ">f8").tobytes()}, byteorder="big")
    assert load_torch(io.BytesIO(data))["w"].tolist() == [1.5, -2, 3]


def test_is_torch_file(tmp_path):
    path = tmp_path / "t.pt"
    torch.save({"a": torch.ones(1)}, path)
    with open(path, "rb") as stream:
        assert is_torch_file(stream) and stream.tell() == 0
        stream.read(3)
        assert not is_torch_file(stream) and stream.tell() == 3  # read from where it stands, as soma.load
        stream.seek(0)
        assert load_torch(stream)["a"].tolist() == [1.0]
    legacy = tmp_path / "legacy.pt"
    torch.save({"a": torch.ones(1)}, legacy, _use_new_zipfile_serialization=False)
    assert is_torch_file(str(legacy)) and is_torch_file(io.BytesIO(legacy.read_bytes()))
    ours = tmp_path / "soma.safetensors"
    soma.save({"a": soma.ones(1)}, ours)
    plain_pickle = tmp_path / "p.pkl"
    plain_pickle.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    assert not any(is_torch_file(f) for f in [ours, plain_pickle, tmp_path / "missing", io.BytesIO(b"")])


def test_soma_load_reads_torch_save_files(tmp_path):
    ref = torch.nn.Linear(3, 2)
    path = tmp_path / "linear.pt"
    torch.save({"model": ref.state_dict(), "step": 7}, path)
    for source in (path, str(path), io.BytesIO(path.read_bytes())):
        loaded = soma.load(source, map_location="cpu", weights_only=True)
        assert loaded["step"] == 7
        np.testing.assert_array_equal(loaded["model"]["weight"].numpy(), ref.weight.detach().numpy())
    obj, metadata = soma.load(path, with_metadata=True)
    assert metadata == {} and list(obj["model"]) == ["weight", "bias"]
    marker = tmp_path / "pwned"
    torch.save({"payload": Evil(marker)}, tmp_path / "evil.pt")
    with pytest.raises(UnsafeTorchFileError, match=r"posix\.system"):
        soma.load(tmp_path / "evil.pt")
    assert not marker.exists()
    os.mkfifo(tmp_path / "fifo")
    assert not is_torch_file(tmp_path / "fifo")  # never opened (opening a FIFO would block)

"""tg.save / tg.load: round trips of nested checkpoints, atomic writes, and clear errors for
files that are damaged or were never checkpoints."""

import json
import math
import os

import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

import tinygen as tg
from tinygen import nn
from tests.helpers import host


def _assert_same_tensor(a, b):
    assert isinstance(b, tg.Tensor)
    assert a.shape == b.shape and a.dtype == b.dtype and a.device == b.device
    assert a.requires_grad == b.requires_grad
    np.testing.assert_array_equal(host(a), host(b))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64, tg.float16, tg.int64, tg.int32,
                                   tg.uint8, tg.bool])
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (5,), (2, 3, 4)])
def test_tensor_round_trip_keeps_dtype_and_shape(tmp_path, device, rng, dtype, shape):
    values = rng.standard_normal(shape) * 10
    t = tg.tensor(values.astype(dtype), device=device)
    tg.save({"t": t}, tmp_path / "ckpt.safetensors")
    _assert_same_tensor(t, tg.load(tmp_path / "ckpt.safetensors")["t"])


def test_nested_structure_round_trip(tmp_path):
    w = tg.randn(3, 2)
    obj = {
        "model": {"0.weight": w, "0.bias": tg.zeros(3)},
        "optim": {"state": {0: {"step": 7, "exp_avg": tg.ones(3, 2, dtype=tg.float64)}},
                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0]}]},
        "epoch": 3, "loss": 0.125, "best": float("inf"), "name": "gan", "done": False,
        "nothing": None, "grad": tg.ones(2, requires_grad=True),
        "array": np.arange(6, dtype=np.int32).reshape(2, 3), "scalar": np.float32(2.5),
        "a": {"b": tg.tensor([1.0])}, "a.b": tg.tensor([2.0]),      # same dotted name twice
        "pi": math.pi, 1.5: "float key", None: "none key", True: [],
    }
    loaded = tg.load(_saved(obj, tmp_path))
    assert list(loaded) == list(obj)
    _assert_same_tensor(w, loaded["model"]["0.weight"])
    state = loaded["optim"]["state"]
    assert list(state) == [0] and state[0]["step"] == 7
    _assert_same_tensor(obj["optim"]["state"][0]["exp_avg"], state[0]["exp_avg"])
    assert loaded["optim"]["param_groups"] == [{"lr": 1e-3, "betas": (0.9, 0.999),
                                                "params": [0]}]
    assert isinstance(loaded["optim"]["param_groups"][0]["betas"], tuple)
    for key in ("epoch", "loss", "best", "name", "done", "nothing", "pi", 1.5, None, True):
        assert loaded[key] == obj[key] and type(loaded[key]) is type(obj[key])
    _assert_same_tensor(obj["grad"], loaded["grad"])
    assert isinstance(loaded["array"], np.ndarray)
    np.testing.assert_array_equal(loaded["array"], obj["array"])
    assert type(loaded["scalar"]) is np.float32 and loaded["scalar"] == 2.5
    assert loaded["a"]["b"].item() == 1.0 and loaded["a.b"].item() == 2.0


def test_nan_and_top_level_values(tmp_path):
    assert math.isnan(tg.load(_saved(float("nan"), tmp_path)))
    assert tg.load(_saved([1, "x", None], tmp_path)) == [1, "x", None]
    _assert_same_tensor(tg.arange(4), tg.load(_saved(tg.arange(4), tmp_path)))


def test_non_contiguous_tensor_is_saved_by_value(tmp_path):
    t = tg.randn(4, 6).T[::2]
    np.testing.assert_array_equal(host(tg.load(_saved({"t": t}, tmp_path))["t"]), host(t))


def test_shared_tensor_stays_shared(tmp_path):
    t = tg.randn(3)
    loaded = tg.load(_saved({"a": t, "b": [t]}, tmp_path))
    assert loaded["a"] is loaded["b"][0]
    assert len(safetensors.numpy.load_file(tmp_path / "ckpt.safetensors")) == 1


def test_file_is_plain_safetensors_with_dotted_keys(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    arrays = safetensors.numpy.load_file(_saved(model.state_dict(), tmp_path))
    assert sorted(arrays) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    np.testing.assert_array_equal(arrays["1.weight"], host(model[1].weight))


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"w": np.ones((2, 2), np.float32)}, path)
    loaded = tg.load(path)
    assert list(loaded) == ["w"] and isinstance(loaded["w"], tg.Tensor)
    assert loaded["w"].sum().item() == 4


def test_module_state_dict_round_trip_into_fresh_module(tmp_path):
    def make():
        return nn.Sequential(nn.Linear(4, 8), nn.Flatten(), nn.Linear(8, 2))
    model = make()
    path = _saved(model.state_dict(), tmp_path)
    fresh = make()
    x = tg.randn(5, 4)
    assert not np.allclose(host(fresh(x)), host(model(x)))
    assert fresh.load_state_dict(tg.load(path)) == ([], [])
    np.testing.assert_array_equal(host(fresh(x)), host(model(x)))


def test_model_and_optimizer_resume_reproduces_next_step(tmp_path):
    from tinygen import optim

    def make():
        model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 1))
        return model, optim.Adam(model.parameters(), lr=0.01)

    def step(model, opt, x):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()

    x = tg.randn(8, 3)
    model, opt = make()
    for _ in range(3):
        step(model, opt, x)
    path = _saved({"model": model.state_dict(), "optim": opt.state_dict(), "step": 3}, tmp_path)
    resumed, resumed_opt = make()
    checkpoint = tg.load(path)
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optim"])
    step(model, opt, x)
    step(resumed, resumed_opt, x)
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(host(a), host(b), err_msg=name)


@pytest.mark.parametrize("map_location", [None, "cpu", tg.device("cpu")])
def test_map_location_cpu(tmp_path, map_location):
    t = tg.randn(3)
    assert tg.load(_saved({"t": t}, tmp_path), map_location=map_location)["t"].device == "cpu"


def _saved_as_if_on_cuda(tmp_path):
    """A checkpoint whose recorded device is cuda:0, as if the tensor had been saved from a
    GPU (the metadata is rewritten; the bytes are the same either way)."""
    t = tg.randn(2, 2)
    path = _saved({"t": t}, tmp_path)
    with safe_open(path, "numpy") as st:
        metadata = st.metadata()
    arrays = safetensors.numpy.load_file(path)
    metadata["tinygen"] = metadata["tinygen"].replace('"cpu"', '"cuda:0"')
    assert "cuda:0" in metadata["tinygen"]
    safetensors.numpy.save_file(arrays, path, metadata)
    return path, t


def test_cuda_checkpoint_loads_on_cpu_only_machine(tmp_path, monkeypatch):
    path, t = _saved_as_if_on_cuda(tmp_path)
    monkeypatch.setattr(tg.cuda, "is_available", lambda: False)
    for map_location in (None, "cpu", {"cuda:0": "cpu"}, {"cuda": "cpu"}):
        loaded = tg.load(path, map_location=map_location)["t"]
        assert loaded.device == "cpu"
        np.testing.assert_array_equal(host(loaded), host(t))


def test_callable_map_location_is_refused(tmp_path):
    with pytest.raises(TypeError, match="callable map_location"):
        tg.load(_saved({"t": tg.randn(2)}, tmp_path), map_location=lambda s, loc: s)


def test_map_location_cuda_without_gpu_is_clear(tmp_path):
    if tg.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="CuPy"):
        tg.load(_saved({"t": tg.randn(2)}, tmp_path), map_location="cuda")


def test_unsupported_objects_are_refused_before_writing(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    with pytest.raises(TypeError, match="key path a.1"):
        tg.save({"a": [1, {2, 3}]}, path)
    with pytest.raises(TypeError, match="dict key"):
        tg.save({(1, 2): 3}, path)
    with pytest.raises(TypeError, match=r"Linear at the top level.*\.state_dict\(\) instead"):
        tg.save(nn.Linear(2, 2), path)
    with pytest.raises(TypeError, match="complex"):
        tg.save({"c": np.ones(2, np.complex64)}, path)
    assert os.listdir(tmp_path) == []


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    tg.save({"t": tg.randn(3)}, tmp_path / "ckpt.safetensors")
    tg.save({"t": tg.randn(3)}, tmp_path / "ckpt.safetensors")
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "ckpt.safetensors").st_mode & 0o777 == 0o666 & ~umask
    os.chmod(tmp_path / "ckpt.safetensors", 0o640)            # a rewrite keeps the file's mode
    tg.save({"t": tg.randn(3)}, tmp_path / "ckpt.safetensors")
    assert os.stat(tmp_path / "ckpt.safetensors").st_mode & 0o777 == 0o640


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    old = tg.randn(3)
    tg.save({"t": old}, path)

    def crash_midway(arrays, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"t\":")
        raise OSError("disk full")
    monkeypatch.setattr(safetensors.numpy, "save_file", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        tg.save({"t": tg.randn(3)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    np.testing.assert_array_equal(host(tg.load(path)["t"]), host(old))


def _damage(path, how):
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[:-7])
    elif how == "header":
        path.write_bytes(data[:8] + b"#" * 5 + data[13:])
    elif how == "data":
        path.write_bytes(data[:-3] + bytes(b ^ 0xFF for b in data[-3:]))
    elif how == "garbage":
        path.write_bytes(b"this is not a checkpoint at all, just some text\n" * 3)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "pickle":
        path.write_bytes(b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94.")


@pytest.mark.parametrize("how", ["truncated", "header", "data", "garbage", "empty", "pickle"])
def test_damaged_file_is_a_clear_error(tmp_path, how):
    path = _saved({"w": tg.randn(4, 4), "step": 3}, tmp_path)
    _damage(path, how)
    with pytest.raises(RuntimeError, match="ckpt.safetensors.*not written by tg.save.*damaged"):
        tg.load(path)


def test_broken_structure_metadata_is_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    bad = [{"version": 99, "root": 1}, {"version": 1, "root": {"tensor": "missing"}},
           {"version": 1, "root": {"strange": 1}}, {"version": 1}]
    for header in bad:
        safetensors.numpy.save_file({"w": np.ones(2)}, path, {"tinygen": json.dumps(header)})
        with pytest.raises(RuntimeError, match="damaged"):
            tg.load(path)
    safetensors.numpy.save_file({"w": np.ones(2)}, path, {"tinygen": "{not json"})
    with pytest.raises(RuntimeError, match="damaged"):
        tg.load(path)
    deep = '{"version": 1, "root": ' + '{"list": [' * 5000 + "]}" * 5000 + "}"
    int_needing_grad = json.dumps({"version": 1, "root": {"tensor": "w", "device": "cpu",
                                                          "requires_grad": True}})
    for header, arrays in ((deep, {"w": np.ones(2)}), (int_needing_grad, {"w": np.ones(2, int)})):
        safetensors.numpy.save_file(arrays, path, {"tinygen": header})
        with pytest.raises(RuntimeError, match="damaged"):
            tg.load(path)


def test_file_objects_are_refused(tmp_path):
    with open(tmp_path / "f", "wb") as f, pytest.raises(TypeError, match="file path"):
        tg.save({"t": tg.zeros(1)}, f)
    with pytest.raises(TypeError, match="file path"):
        tg.load(3)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "nope.safetensors")


def test_a_directory_is_not_a_checkpoint(tmp_path):
    with pytest.raises(IsADirectoryError, match="a checkpoint file, not a directory"):
        tg.load(tmp_path)


def test_a_dtype_numpy_lacks_is_named(tmp_path):
    """A valid safetensors file of bfloat16 weights (common for downloaded models) is not
    damaged: the error says which tensor has which dtype, and how to convert it."""
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\x80\x3f\x00\x40")
    with pytest.raises(TypeError, match="holds 'w' as BF16.*convert .* to float32"):
        tg.load(path)


def test_big_endian_arrays_round_trip(tmp_path):
    """safetensors stores little-endian: the values survive, in native byte order."""
    big = np.arange(4, dtype=">f4")
    loaded = tg.load(_saved({"big": big}, tmp_path))["big"]
    np.testing.assert_array_equal(loaded, big)
    assert loaded.dtype == np.float32


def _saved(obj, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    tg.save(obj, path)
    return path

"""``tg.save`` and ``tg.load``: checkpoints as safetensors files, never pickle.

A checkpoint is any nest of dicts, lists and tuples whose leaves are tensors, NumPy arrays,
numbers, strings, booleans or None (a state dict, or ``{"model": ..., "optim": ..., "step": 3}``).
The arrays go into one safetensors file under their dotted paths (``model.0.weight``), so other
tools, PyTorch's ``safetensors.torch.load_file`` included, read the weights directly. The nest
itself goes into the file's string metadata as JSON (key ``"tinygen"``), in which each array is
``{"tensor": <key in the file>, ...}``: the JSON holds the exact path (keys containing dots,
integer keys, tuples), and the dotted key is only a name.

Safety: loading parses a JSON header and copies bytes; nothing in the file is ever executed.
Each array's CRC-32 is stored too, so damaged data is reported rather than loaded.
Writes are atomic: the file is written to a temporary name in the same directory, flushed to
disk, and renamed over the target, so a crash leaves either the old file or the new one.
"""

import contextlib
import errno
import json
import os
import secrets
import zlib

import numpy as np

from tinygen import backend, cuda
from tinygen.tensor import Tensor

FORMAT_VERSION = 1
_METADATA_KEY = "tinygen"


def save(obj, f):
    """Write ``obj`` (tensors, arrays, numbers, strings, None in dicts/lists/tuples) to the
    safetensors file at path ``f``, atomically."""
    path = _path(f, "tg.save")
    arrays = {}
    tree = _encode(obj, (), arrays, {})
    metadata = {_METADATA_KEY: json.dumps({"version": FORMAT_VERSION, "root": tree})}
    with atomic_replace(path) as tmp:
        with open(tmp, "xb"):                  # the permissions open() gives, umask applied
            mode = os.stat(path if os.path.exists(path) else tmp).st_mode & 0o777
        from safetensors.numpy import save_file
        save_file(arrays, tmp, metadata=metadata)
        os.chmod(tmp, mode)                    # safetensors makes its files private (0600)
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())


@contextlib.contextmanager
def atomic_replace(path):
    """Yield a fresh temporary name beside ``path`` to write; on a clean exit rename it over
    ``path`` and make the rename durable, on an error remove it. Beside the target means the
    same file system, so the rename is atomic: a reader sees the old file or the new one."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def _path(f, caller):
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"{caller} takes a file path (str or os.PathLike), got "
                        f"{type(f).__name__}; safetensors files are opened by name")
    return os.fspath(f)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); where directories cannot be opened, skip."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode(obj, path, arrays, seen):
    """The JSON form of ``obj``; arrays are added to ``arrays`` under a unique dotted key.
    ``seen`` maps id(tensor) to its key, so a tensor stored twice is written once."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return {"float": repr(obj)}                # repr round-trips exactly, inf and nan too
    if isinstance(obj, Tensor):
        return _encode_array(obj, backend.to_device(obj.array, "cpu"), path, arrays, seen,
                             {"device": str(obj.device), "requires_grad": obj.requires_grad})
    if isinstance(obj, np.ndarray):
        return _encode_array(obj, obj, path, arrays, seen, {"kind": "ndarray"})
    if isinstance(obj, np.generic):
        return _encode_array(obj, np.asarray(obj), path, arrays, seen, {"kind": "scalar"})
    if isinstance(obj, dict):
        for key in obj:
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise TypeError(f"tg.save: dict key {key!r} at {_where(path)} is a "
                                f"{type(key).__name__}; keys must be str, int, float, bool "
                                f"or None")
        return {"dict": [[_encode(k, path, arrays, seen), _encode(v, path + (k,), arrays, seen)]
                         for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, path + (i,), arrays, seen) for i, v in enumerate(obj)]
        return {"list" if isinstance(obj, list) else "tuple": items}
    hint = "; save its .state_dict() instead" if hasattr(obj, "state_dict") else ""
    raise TypeError(f"tg.save can't store {type(obj).__name__} at {_where(path)}: only tensors, "
                    f"NumPy arrays, numbers, strings, None and dicts/lists/tuples of them{hint}")


def _encode_array(obj, array, path, arrays, seen, info):
    if id(obj) in seen:
        return dict(info, tensor=seen[id(obj)])
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tg.save can't store dtype {array.dtype} at {_where(path)}")
    # safetensors copies raw memory, little-endian: the CRC must see the bytes it writes
    array = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
    key = ".".join(str(k) for k in path) or "tensor"
    unique, n = key, 1
    while unique in arrays:
        unique, n = f"{key}#{n}", n + 1
    arrays[unique] = array
    seen[id(obj)] = unique
    return dict(info, tensor=unique, crc32=_crc32(array))


def _crc32(array):
    return zlib.crc32(array.reshape(-1).view(np.uint8))


def _where(path):
    return "the top level" if not path else "key path " + ".".join(str(k) for k in path)


def load(f, map_location=None):
    """Read a checkpoint written by ``tg.save`` (or any safetensors file: then a dict of its
    tensors) and rebuild the saved structure.

    ``map_location``: None puts each tensor on the device it was saved from, falling back to
    the CPU when that device is not available here (so a CUDA checkpoint loads on a CPU-only
    machine); "cpu", "cuda", "cuda:1" or a ``tg.device`` puts every tensor there; a dict such
    as ``{"cuda:1": "cuda:0"}`` maps saved devices to devices (others are treated as None).
    """
    path = _path(f, "tg.load")
    place = _placement(map_location)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "tg.load takes a checkpoint file, not a directory",
                                path)
    from safetensors import safe_open
    try:
        with safe_open(path, framework="numpy") as file:
            metadata = file.metadata() or {}
            arrays = {key: _read_array(file, key, path) for key in file.keys()}
    except (FileNotFoundError, UnreadableDtypeError):
        raise
    except Exception as error:
        raise _damaged(path, error) from error
    if _METADATA_KEY not in metadata:               # someone else's safetensors file
        return {key: Tensor(backend.to_device(a, place(backend.CPU)))
                for key, a in arrays.items()}
    try:
        header = json.loads(metadata[_METADATA_KEY])
        if header.get("version") != FORMAT_VERSION:
            raise ValueError(f"format version {header.get('version')!r}, this tinygen reads "
                             f"version {FORMAT_VERSION}")
        return _decode(header["root"], arrays, place, {})
    except (ValueError, KeyError, TypeError, AttributeError, RuntimeError,
            RecursionError) as error:        # a structure that is not one tg.save writes
        raise _damaged(path, error) from error


class UnreadableDtypeError(TypeError):
    """A safetensors file holds a dtype that NumPy has no type for (bfloat16, float8)."""


def _read_array(file, key, path):
    try:
        return file.get_tensor(key)
    except TypeError as error:
        dtype = file.get_slice(key).get_dtype()
        raise UnreadableDtypeError(
            f"tg.load: {path!r} holds {key!r} as {dtype}, which NumPy, and so tinygen, has no "
            f"type for; convert the file's tensors to float32 first (in PyTorch: "
            f"save_file({{k: v.float() for k, v in load_file(path).items()}}, new_path))"
        ) from error


def _damaged(path, error):
    return RuntimeError(f"tg.load: {path!r} can't be read as a tinygen checkpoint: {error}. It "
                        f"was not written by tg.save (or any safetensors writer), or it is "
                        f"damaged (truncated or corrupt).")


def _placement(map_location):
    """A function from the device a tensor was saved on to the device to load it on."""
    if map_location is None:
        return _available
    if isinstance(map_location, dict):
        mapping = {str(backend.Device(k)): backend.Device(v) for k, v in map_location.items()}
        return lambda saved: mapping.get(str(saved)) or _available(saved)
    if callable(map_location):
        raise TypeError("tg.load: a callable map_location is not supported (tinygen has no "
                        "storages); pass a device, a device name or a dict of device names")
    device = backend.Device(map_location)
    return lambda saved: device


def _decode(node, arrays, place, loaded):
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if not isinstance(node, dict) or len(node) == 0:
        raise ValueError(f"unexpected entry {node!r} in the checkpoint's structure")
    if "float" in node:
        return float(node["float"])
    if "dict" in node:
        return {_decode(k, arrays, place, loaded): _decode(v, arrays, place, loaded)
                for k, v in node["dict"]}
    if "list" in node:
        return [_decode(v, arrays, place, loaded) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays, place, loaded) for v in node["tuple"])
    key = node["tensor"]
    if key not in loaded:
        loaded[key] = _decode_array(node, arrays, place)
    return loaded[key]


def _decode_array(node, arrays, place):
    key = node["tensor"]
    if key not in arrays:
        raise ValueError(f"the structure names array {key!r}, which the file does not hold")
    array = arrays[key]
    if "crc32" in node and _crc32(array) != node["crc32"]:
        raise ValueError(f"the data of array {key!r} fails its CRC-32 check")
    kind = node.get("kind")
    if kind == "ndarray":
        return array
    if kind == "scalar":
        return array[()]
    device = place(backend.Device(node["device"]))
    return Tensor(backend.to_device(array, device), requires_grad=node["requires_grad"])


def _available(device):
    """``device`` if this machine has it, else the CPU."""
    if device.type == "cuda" and (not cuda.is_available() or
                                  device.index >= cuda.device_count()):
        return backend.CPU
    return device

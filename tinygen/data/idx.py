"""The IDX file format that MNIST ships in: read and write, gzipped or not.

An IDX file is a 4-byte magic number ``0 0 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the values in C order, big-endian (http://yann.lecun.com/exdb/mnist/).
Files whose name ends in ``.gz`` are gzip-compressed.
"""

import gzip
import os

import numpy as np

# dtype code -> NumPy dtype (big-endian, as IDX stores multi-byte values)
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}


def _open(path, mode):
    return gzip.open(path, mode) if os.fspath(path).endswith(".gz") else open(path, mode)


def read_idx(path):
    """Read an IDX file (``.gz`` for gzipped) into a NumPy array in native byte order.

    Raises ValueError naming the file when the magic number, dtype code, sizes or byte count are
    wrong, so a truncated download or a wrong file is reported instead of read as garbage.
    """
    path = os.fspath(path)
    try:
        with _open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:   # gzip raises these for corrupt or truncated archives
        raise ValueError(f"{path}: cannot read ({err}); the file is corrupt, delete it and "
                         "get it again") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (the magic number must start with two zero "
                         f"bytes, got {data[:4].hex() or 'an empty file'})")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02x} "
                         f"(known: {', '.join(f'0x{c:02x}' for c in IDX_DTYPES)})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated header ({len(data)} bytes, the {ndim} sizes need "
                         f"{header})")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path}: {len(data)} bytes, but an IDX array of shape {shape} and "
                         f"dtype {dtype.name} takes {expected}; the file is truncated or corrupt")
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``); returns path."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of "
                         f"{', '.join(str(d) for d in _CODES)}")
    if array.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    body = np.ascontiguousarray(array, IDX_DTYPES[code]).tobytes()
    with _open(path, "wb") as f:
        f.write(header + body)
    return path

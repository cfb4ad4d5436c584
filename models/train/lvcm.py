"""Writer and reader of .lvcm model files (doc/model-file.md).

    import lvcm
    lvcm.write("model.lvcm", {"g_a.0.weight": w, ...}, {"arch": "meanscale", "N": 128})
    tensors, meta = lvcm.read("model.lvcm")

The bytes are a function of the inputs only (tensors sorted by name, keys
sorted, fixed padding, no timestamps), so exporting twice gives the same
file and the same weights hash. Needs only numpy; runs under
/usr/bin/python3.
"""
import hashlib
import os
import struct

import numpy as np

MAGIC = b"LVCM\r\n\x1a\n"
VERSION = 1
HEADER_SIZE = 64
ENTRY_SIZE = 128
NAME_MAX = 87
ALIGN = 64
MAX_TENSORS = 65536
MAX_META = 1 << 20

# dtype code <-> numpy dtype (stored little-endian)
DTYPES = {
    1: np.dtype("<f4"),
    2: np.dtype("<f2"),
    3: np.dtype("i1"),
    4: np.dtype("<i2"),
    5: np.dtype("<i4"),
    6: np.dtype("u1"),
    7: np.dtype("<u2"),
    8: np.dtype("<u4"),
}
_CODE = {v.str.lstrip("<>|="): k for k, v in DTYPES.items()}


def _code_of(arr):
    key = arr.dtype.newbyteorder("<").str.lstrip("<>|=")
    if key not in _CODE:
        raise ValueError("unsupported dtype %s (use f32 f16 i8 i16 i32 u8 u16 u32)" % arr.dtype)
    return _CODE[key]


def _meta_bytes(meta):
    lines = []
    for k in sorted(meta):
        v = meta[k]
        if not k or any(not (c.isascii() and (c.isalnum() or c in "_.-")) for c in k):
            raise ValueError("bad metadata key %r" % (k,))
        if isinstance(v, bool):
            v = int(v)
        if isinstance(v, float):
            v = repr(v)      # shortest round-trip form
        v = str(v)
        if "\n" in v or "\0" in v:
            raise ValueError("metadata value of %r has a newline or NUL" % (k,))
        lines.append("%s=%s\n" % (k, v))
    b = "".join(lines).encode("utf-8")
    if len(b) > MAX_META:
        raise ValueError("metadata too large")
    return b


def _align(n, a):
    return (n + a - 1) // a * a


def to_bytes(tensors, meta=None):
    """Serialise {name: array} and {key: value} to the .lvcm bytes."""
    meta = meta or {}
    names = sorted(tensors, key=lambda s: s.encode("utf-8"))
    if len(names) > MAX_TENSORS:
        raise ValueError("too many tensors")
    mb = _meta_bytes(meta)
    meta_off = HEADER_SIZE
    table_off = _align(meta_off + len(mb), 8)
    data_off = _align(table_off + ENTRY_SIZE * len(names), ALIGN)

    table = bytearray()
    data = bytearray()
    for name in names:
        arr = np.asarray(tensors[name])
        nb = name.encode("utf-8")
        if not nb or len(nb) > NAME_MAX or b"\0" in nb:
            raise ValueError("bad tensor name %r" % (name,))
        if arr.ndim > 4 or 0 in arr.shape:
            raise ValueError("%s: shape %s not supported (ndim <= 4, no empty dims)" % (name, arr.shape))
        code = _code_of(arr)
        raw = np.ascontiguousarray(arr, dtype=DTYPES[code]).tobytes()
        shape = list(arr.shape) + [0] * (4 - arr.ndim)
        table += nb.ljust(88, b"\0")
        table += struct.pack("<II4IQQ", code, arr.ndim, *shape, len(data), len(raw))
        data += raw
        data += b"\0" * (_align(len(data), ALIGN) - len(data))

    file_size = data_off + len(data) + 32
    header = MAGIC + struct.pack("<IIQQQQIIQ", VERSION, HEADER_SIZE, file_size, meta_off,
                                 len(mb), table_off, len(names), 0, data_off)
    assert len(header) == HEADER_SIZE
    body = bytearray(header)
    body += mb
    body += b"\0" * (table_off - len(body))
    body += table
    body += b"\0" * (data_off - len(body))
    body += data
    body += hashlib.sha256(body).digest()
    assert len(body) == file_size
    return bytes(body)


def write(path, tensors, meta=None):
    """Write a .lvcm file; returns the weights hash (hex SHA-256)."""
    b = to_bytes(tensors, meta)
    with open(path, "wb") as f:
        f.write(b)
    return b[-32:].hex()


def from_bytes(b):
    """Parse and validate .lvcm bytes -> (tensors, meta). Raises ValueError."""
    if len(b) < HEADER_SIZE or b[:8] != MAGIC:
        raise ValueError("not an lvcm file")
    (version, hsize, file_size, meta_off, meta_size, table_off, count, flags,
     data_off) = struct.unpack_from("<IIQQQQIIQ", b, 8)
    if version != VERSION:
        raise ValueError("unsupported version %d" % version)
    if file_size != len(b):
        raise ValueError("size mismatch (truncated or trailing bytes)")
    if hashlib.sha256(b[:-32]).digest() != b[-32:]:
        raise ValueError("hash mismatch")
    if hsize != HEADER_SIZE or flags or meta_off != HEADER_SIZE:
        raise ValueError("bad header")
    if table_off != _align(meta_off + meta_size, 8) or \
            data_off != _align(table_off + ENTRY_SIZE * count, ALIGN):
        raise ValueError("bad layout")
    meta = {}
    for line in b[meta_off:meta_off + meta_size].decode("utf-8").splitlines():
        k, _, v = line.partition("=")
        meta[k] = v
    tensors = {}
    for i in range(count):
        e = table_off + i * ENTRY_SIZE
        name = b[e:e + 88].split(b"\0", 1)[0].decode("utf-8")
        code, ndim, s0, s1, s2, s3, off, nbytes = struct.unpack_from("<II4IQQ", b, e + 88)
        shape = (s0, s1, s2, s3)[:ndim]
        dt = DTYPES[code]
        start = data_off + off
        arr = np.frombuffer(b, dtype=dt, count=int(np.prod(shape, dtype=np.int64)),
                            offset=start).reshape(shape)
        if arr.nbytes != nbytes:
            raise ValueError("%s: size mismatch" % name)
        tensors[name] = arr.copy()
    return tensors, meta


TRUNK_PREFIXES = ("g_a.", "g_s.")
TRUNK_NAMES = ("gain", "inv_gain")


def is_trunk_name(name):
    """Tensors a file may take from the trunk it shares (doc/model-file.md)."""
    return name.startswith(TRUNK_PREFIXES) or name in TRUNK_NAMES


def file_hash(path):
    """The weights hash streams name a model by: SHA-256 of the whole file."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def find_trunk(folder, sha):
    """The .lvcm file of folder whose weights hash is sha."""
    for f in sorted(os.listdir(folder)):
        p = os.path.join(folder, f)
        if f.endswith(".lvcm") and file_hash(p) == sha:
            return p
    raise ValueError("trunk %s... not found in %s" % (sha[:16], folder))


def read(path, resolve_trunk=True):
    """Read a .lvcm file -> (tensors dict of numpy arrays, meta dict of strings).
    A file sharing a trunk (metadata trunk_sha256) gets the trunk's tensors
    it leaves out, from the .lvcm of the same folder with that hash."""
    with open(path, "rb") as f:
        t, meta = from_bytes(f.read())
    if resolve_trunk and meta.get("trunk_sha256"):
        tt, tm = read(find_trunk(os.path.dirname(os.path.abspath(path)), meta["trunk_sha256"]),
                      resolve_trunk=False)
        if tm.get("trunk_sha256"):
            raise ValueError("%s: its trunk shares another trunk" % path)
        merged = {k: v for k, v in tt.items() if is_trunk_name(k) and k not in t}
        merged.update(t)
        t = merged
    return t, meta


def weights_hash(path):
    with open(path, "rb") as f:
        return f.read()[-32:].hex()


if __name__ == "__main__":
    import sys
    for p in sys.argv[1:]:
        t, m = read(p, resolve_trunk=False)
        print("%s: %d tensors, sha256 %s" % (p, len(t), weights_hash(p)))
        for k, v in m.items():
            print("  %s=%s" % (k, v))
        for k, v in t.items():
            print("  %-40s %-8s %s" % (k, v.dtype, tuple(v.shape)))

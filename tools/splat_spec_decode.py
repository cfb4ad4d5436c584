#!/usr/bin/env python3
"""Independent decoder of lvc Gaussian-splat streams (kind 3).

Written only from doc/bitstream.md sections 1-3 and 6.1 and doc/entropy.md
sections 1 and 4, to check that those documents suffice to decode a stream
bit-exactly. Plain Python 3 standard library.

    python3 tools/splat_spec_decode.py STREAM.lvc OUT.ply [--max-count N]

Writes a binary little-endian PLY in the 3DGS layout (the layout lvcdec
writes), so that the two outputs can be compared byte for byte. An invalid
stream gives a one-line error on stderr and exit status 3.
"""

import math
import struct
import sys
import time
import zlib
from bisect import bisect_right


class StreamError(Exception):
    def __init__(self, code, msg):
        Exception.__init__(self, "%s: %s" % (code, msg))
        self.code = code


def corrupt(msg):
    return StreamError("LVC_ERR_CORRUPT", msg)


MAGIC = b"\x89LVC"
VERSION = 3
KIND_SPLATS = 3
DEFAULT_MAX_COUNT = 1 << 24       # include/lvc/splat.h: LVC_SPLAT_DEFAULT_MAX_COUNT
FLT_MAX_INT = (2 ** 24 - 1) << 104  # the largest float, exactly
ATTR_TYPES = (b"spos", b"srot", b"sscl", b"sopa", b"scol", b"sshr")

# --------------------------------------------------------------- varints


def read_varint32(buf, pos):
    """bitstream.md section 1: minimal LEB128, at most 5 bytes, < 2^32.
    Returns (value, new_pos) or raises ('truncated' if the stream ends)."""
    v = 0
    shift = 0
    for i in range(5):
        if pos >= len(buf):
            raise StreamError("LVC_ERR_TRUNCATED", "stream ends inside a varint")
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not (b & 0x80):
            if b == 0 and i > 0:
                raise corrupt("non-minimal varint")
            if v > 0xFFFFFFFF:
                raise corrupt("varint above 2^32 - 1")
            return v, pos
    raise corrupt("varint with a 5th byte continuing")


def read_varint64(buf, pos, end):
    """bitstream.md 6.1: minimal LEB128 of up to 10 bytes, value < 2^64."""
    v = 0
    shift = 0
    for i in range(10):
        if pos >= end:
            raise corrupt("shdr payload ends inside a varint64")
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not (b & 0x80):
            if v > 0xFFFFFFFFFFFFFFFF:
                raise corrupt("varint64 above 2^64 - 1")
            if i > 0 and b == 0:
                raise corrupt("non-minimal varint64")
            return v, pos
    raise corrupt("varint64 longer than 10 bytes")


def read_svarint64(buf, pos, end):
    u, pos = read_varint64(buf, pos, end)
    return (u >> 1) ^ -(u & 1), pos


# ----------------------------------------------------------------- boxes


def read_box(buf, pos):
    """bitstream.md 3.3, checks in that order. Returns
    (type, flags, payload_start, payload_end, next_pos)."""
    n = len(buf)
    if n - pos < 6:
        raise StreamError("LVC_ERR_TRUNCATED", "fewer than 6 bytes left for a box")
    btype = bytes(buf[pos:pos + 4])
    flags = buf[pos + 4]
    length, p = read_varint32(buf, pos + 5)
    if length + 4 > n - p:
        raise StreamError("LVC_ERR_LENGTH", "box %r length %d beyond the stream"
                          % (btype, length))
    end = p + length
    crc = struct.unpack_from("<I", buf, end)[0]
    if zlib.crc32(buf[pos:end]) & 0xFFFFFFFF != crc:
        raise StreamError("LVC_ERR_CRC", "box %r CRC mismatch" % (btype,))
    if any(c < 0x20 or c > 0x7E for c in btype):
        raise corrupt("box type byte outside 0x20..0x7E")
    if flags & 0xFE:
        raise corrupt("reserved box flag bit set")
    return btype, flags, p, end, end + 4


# ------------------------------------------------------------------ rANS

RANS_L = 1 << 16


class RansDec(object):
    """entropy.md section 1: one 32-bit state, 16-bit words."""

    def __init__(self, data, name):
        self.name = name
        if len(data) < 4:
            raise StreamError("LVC_ERR_TRUNCATED",
                              "%s: rANS substream shorter than its 4-byte state" % name)
        if (len(data) - 4) & 1:
            raise corrupt("%s: rANS substream of odd length" % name)
        self.x = struct.unpack_from("<I", data, 0)[0]
        if self.x < RANS_L:
            raise corrupt("%s: rANS header state below L" % name)
        nw = (len(data) - 4) // 2
        self.words = list(struct.unpack_from("<%dH" % nw, data, 4))
        self.words.append(0)  # sentinel; reading it (or past it) is truncation
        self.nw = nw
        self.pos = 0

    def refill(self, x):
        pos = self.pos
        if pos < self.nw:
            x = (x << 16) | self.words[pos]
        else:
            x = x << 16   # shifts in zeros; recorded as truncation
        self.pos = pos + 1
        return x

    def raw(self, n):
        """n raw bits, 1 <= n <= 16."""
        x = self.x
        v = x & ((1 << n) - 1)
        x >>= n
        if x < RANS_L:
            x = self.refill(x)
        self.x = x
        return v

    def raw_bits(self, nbits):
        """nbits (any) raw bits in groups of at most 16, least significant
        group (16 bits) first."""
        v = 0
        shift = 0
        while nbits > 0:
            n = 16 if nbits > 16 else nbits
            v |= self.raw(n) << shift
            shift += n
            nbits -= n
        return v

    def finish(self):
        if self.pos > self.nw:
            raise StreamError("LVC_ERR_TRUNCATED", "%s: rANS substream truncated"
                              % self.name)
        if self.pos != self.nw:
            raise corrupt("%s: %d unread rANS words" % (self.name, self.nw - self.pos))
        if self.x != RANS_L:
            raise corrupt("%s: final rANS state 0x%x != L" % (self.name, self.x))


class Adaptive(object):
    """entropy.md section 4, default parameters: prec 16, increment 24,
    limit 2^16, period 16 doubling to 1024, counts all 1."""
    __slots__ = ("nsym", "count", "total", "cdf", "period", "until")
    PREC = 16
    INC = 24
    LIMIT = 1 << 16
    PMAX = 1024

    def __init__(self, nsym):
        self.nsym = nsym
        self.count = [1] * nsym
        self.total = nsym
        self.period = 16
        self.until = 16
        self.rebuild()

    def rebuild(self):
        total = self.total
        cdf = []
        c = 0
        for k in self.count:
            cdf.append((c << 16) // total)
            c += k
        cdf.append((c << 16) // total)
        self.cdf = cdf

    def decode(self, d):
        x = d.x
        slot = x & 0xFFFF
        cdf = self.cdf
        s = bisect_right(cdf, slot) - 1
        start = cdf[s]
        x = (cdf[s + 1] - start) * (x >> 16) + slot - start
        if x < RANS_L:
            x = d.refill(x)
        d.x = x
        # update
        count = self.count
        if self.total + 24 > 65536:
            for i in range(self.nsym):
                count[i] = (count[i] + 1) >> 1
            self.total = sum(count)
        count[s] += 24
        self.total += 24
        self.until -= 1
        if self.until == 0:
            self.rebuild()
            p = self.period * 2
            if p > 1024:
                p = 1024
            self.period = p
            self.until = p
        return s


# ------------------------------------------------------- splat coding


def decode_residual(d, model):
    """Returns the zigzag value u (caller un-zigzags)."""
    sym = model.decode(d)
    if sym < 15:
        return sym
    L = sym - 15 + 4
    u = (1 << (L - 1)) | d.raw_bits(L - 1)
    if u < 15:
        raise corrupt("%s: residual %d not coded directly" % (d.name, u))
    return u


def decode_channels(d, n, C):
    """bitstream.md 6.1 'Channels'. Returns a flat list, v[i*C + c]."""
    preds = [d.raw(2) for _ in range(C)]
    for c, p in enumerate(preds):
        if p == 3 or (p == 2 and c == 0):
            raise corrupt("%s: predictor id %d for channel %d" % (d.name, p, c))
    models = [Adaptive(44) for _ in range(3 * C)]
    ctx = [0] * C
    out = [0] * (n * C)
    LIM = 1 << 24
    for i in range(n):
        base = i * C
        for c in range(C):
            u = decode_residual(d, models[3 * c + ctx[c]])
            ctx[c] = 0 if u == 0 else (1 if u <= 2 else 2)
            r = (u >> 1) ^ -(u & 1)
            p = preds[c]
            if p == 0:
                v = r
            elif p == 1:
                v = r + (out[base - C + c] if i > 0 else 0)
            else:
                v = r + out[base + c - 1]
            if v > LIM or v < -LIM:
                raise corrupt("%s: decoded |value| above 2^24" % d.name)
            out[base + c] = v
    return out


def _morton_tables():
    # 9 Morton bits -> 3 bits each of x, y, z
    tx, ty, tz = [0] * 512, [0] * 512, [0] * 512
    for m in range(512):
        x = y = z = 0
        for k in range(3):
            x |= ((m >> (3 * k)) & 1) << k
            y |= ((m >> (3 * k + 1)) & 1) << k
            z |= ((m >> (3 * k + 2)) & 1) << k
        tx[m], ty[m], tz[m] = x, y, z
    return tx, ty, tz


def decode_positions(d, hdr):
    n = hdr["count"]
    pb = hdr["pos_bits"]
    maxL = 3 * pb
    lim = 1 << maxL
    models = [Adaptive(64) for _ in range(8)]
    tx, ty, tz = _morton_tables()
    ox, oy, oz = hdr["origin"]
    e = hdr["pos_exp"]
    ldexp = math.ldexp
    out = [0.0] * (3 * n)
    m = 0
    Lp = 0
    for i in range(n):
        mi = Lp >> 3
        L = models[mi if mi < 7 else 7].decode(d)
        if L > maxL:
            raise corrupt("spos: gap length %d > 3 x pos_bits" % L)
        if L:
            m += (1 << (L - 1)) | d.raw_bits(L - 1)
            if m >= lim:
                raise corrupt("spos: Morton code reaches 2^(3 pos_bits)")
        Lp = L
        x = y = z = 0
        mm = m
        sh = 0
        while mm:
            b = mm & 511
            x |= tx[b] << sh
            y |= ty[b] << sh
            z |= tz[b] << sh
            mm >>= 9
            sh += 3
        out[3 * i] = ldexp(float(ox + x), e)
        out[3 * i + 1] = ldexp(float(oy + y), e)
        out[3 * i + 2] = ldexp(float(oz + z), e)
    return out


def decode_rotations(d, hdr):
    n = hdr["count"]
    rb = hdr["rot_bits"]
    models = [Adaptive(4) for _ in range(4)]
    idx = [0] * n
    prev = 0
    for i in range(n):
        prev = models[prev].decode(d)
        idx[i] = prev
    q = decode_channels(d, n, 3)
    one2 = 1 << (2 * rb)
    ldexp = math.ldexp
    sqrt = math.sqrt
    out = [0.0] * (4 * n)
    for i in range(n):
        a, b, c = q[3 * i], q[3 * i + 1], q[3 * i + 2]
        t = one2 - (a * a + b * b + c * c)
        big = ldexp(sqrt(float(t if t > 0 else 0)), -rb)
        others = [ldexp(float(a), -rb), ldexp(float(b), -rb), ldexp(float(c), -rb)]
        others.insert(idx[i], big)
        out[4 * i:4 * i + 4] = others
    return out


def scaled(vals, bits):
    ldexp = math.ldexp
    return [ldexp(float(v), -bits) for v in vals]


def decode_sh_rest(d, hdr):
    n = hdr["count"]
    K = (hdr["sh_degree"] + 1) ** 2
    C = 3 * (K - 1)
    N = hdr["codebook"]
    if N == 0:
        return scaled(decode_channels(d, n, C), hdr["sh_bits"])
    book = scaled(decode_channels(d, N, C), hdr["sh_bits"])
    l = 6 if N > 64 else 0
    nh = max(2, (N + (1 << l) - 1) >> l)
    model = Adaptive(nh)
    out = [0.0] * (n * C)
    for i in range(n):
        h = model.decode(d)
        k = (h << l) | d.raw(l) if l else h
        if k >= N:
            raise corrupt("sshr: codebook index %d >= %d" % (k, N))
        out[i * C:(i + 1) * C] = book[k * C:(k + 1) * C]
    return out


# ---------------------------------------------------------------- stream


def parse_shdr(buf, p, end, max_count):
    h = {}
    h["count"], p = read_varint64(buf, p, end)
    if h["count"] > max_count:
        raise StreamError("LVC_ERR_LIMIT", "count %d above the limit %d"
                          % (h["count"], max_count))

    def u8():
        nonlocal p
        if p >= end:
            raise corrupt("shdr payload too short")
        p += 1
        return buf[p - 1]

    h["sh_degree"] = u8()
    h["pos_bits"] = u8()
    h["pos_exp"], p = read_svarint64(buf, p, end)
    origin = []
    for _ in range(3):
        o, p = read_svarint64(buf, p, end)
        origin.append(o)
    h["origin"] = origin
    h["rot_bits"] = u8()
    h["scale_bits"] = u8()
    h["opacity_bits"] = u8()
    h["color_bits"] = u8()
    h["sh_bits"] = u8()
    h["codebook"], p = read_varint64(buf, p, end)
    if end - p < 2:
        raise corrupt("shdr payload too short")
    h["quality"] = buf[p] | buf[p + 1] << 8
    p += 2
    h["num_boxes"], p = read_varint64(buf, p, end)
    if p != end:
        raise corrupt("bytes after the shdr fields")
    # field rules
    if h["sh_degree"] > 3:
        raise corrupt("sh_degree > 3")
    if not 1 <= h["pos_bits"] <= 21:
        raise corrupt("pos_bits outside 1..21")
    e = h["pos_exp"]
    if not -200 <= e <= 200:
        raise corrupt("pos_exp outside -200..200")
    hi = (1 << h["pos_bits"]) - 1
    for o in origin:
        if abs(o) > 1 << 52:
            raise corrupt("|origin| > 2^52")
        mag = max(abs(o), abs(o + hi))
        # mag * 2^e <= FLT_MAX, exactly
        if (mag << e > FLT_MAX_INT) if e >= 0 else (mag > FLT_MAX_INT << -e):
            raise corrupt("grid exceeds the float range")
    if not 2 <= h["rot_bits"] <= 15:
        raise corrupt("rot_bits outside 2..15")
    for k in ("scale_bits", "opacity_bits", "color_bits", "sh_bits"):
        if h[k] > 16:
            raise corrupt("%s > 16" % k)
    if h["codebook"] > 16384:
        raise corrupt("codebook > 16384")
    if h["codebook"] and h["sh_degree"] == 0:
        raise corrupt("codebook with sh_degree 0")
    if h["quality"] > 10000:
        raise corrupt("quality > 10000")
    nattr = 6 if h["sh_degree"] > 0 else 5
    if not nattr <= h["num_boxes"] <= 4096:
        raise corrupt("num_boxes %d outside %d..4096" % (h["num_boxes"], nattr))
    return h


def parse_stream(buf, max_count=DEFAULT_MAX_COUNT):
    n = len(buf)
    if n < 4 and buf == MAGIC[:n]:
        raise StreamError("LVC_ERR_TRUNCATED", "stream shorter than the magic")
    if buf[:4] != MAGIC:
        raise StreamError("LVC_ERR_BAD_MAGIC", "bad magic")
    if n < 6:
        raise StreamError("LVC_ERR_TRUNCATED", "stream shorter than the file header")
    if buf[4] != VERSION:
        raise StreamError("LVC_ERR_VERSION", "version %d" % buf[4])
    if buf[5] != KIND_SPLATS:
        raise StreamError("LVC_ERR_KIND", "kind %d is not 3 (splats)" % buf[5])
    btype, flags, p0, p1, pos = read_box(buf, 6)
    if btype != b"shdr":
        raise corrupt("first box is %r, not shdr" % (btype,))
    if not flags & 1:
        raise corrupt("shdr without MANDATORY")
    hdr = parse_shdr(buf, p0, p1, max_count)
    nattr = 6 if hdr["sh_degree"] > 0 else 5
    payloads = {}
    next_attr = 0
    for _ in range(hdr["num_boxes"]):
        if pos == n:
            raise StreamError("LVC_ERR_TRUNCATED", "stream ends before box %d of %d"
                              % (_ + 1, hdr["num_boxes"]))
        btype, flags, p0, p1, pos = read_box(buf, pos)
        if btype == b"shdr":
            raise corrupt("second shdr")
        if btype in ATTR_TYPES:
            k = ATTR_TYPES.index(btype)
            if not flags & 1:
                raise corrupt("attribute box %r without MANDATORY" % (btype,))
            if k >= nattr:
                raise corrupt("sshr with sh_degree 0")
            if k != next_attr:
                raise corrupt("attribute box %r missing before, repeated or out of order"
                              % (btype,))
            payloads[btype] = bytes(buf[p0:p1])
            next_attr += 1
        elif flags & 1:
            raise StreamError("LVC_ERR_UNKNOWN_BOX", "unknown mandatory box %r" % (btype,))
        # else: unknown optional box, skipped
    if pos != n:
        raise corrupt("%d bytes after the last box" % (n - pos))
    if next_attr != nattr:
        raise corrupt("missing attribute box %r" % (ATTR_TYPES[next_attr],))
    return hdr, payloads


def decode(buf, max_count=DEFAULT_MAX_COUNT, timing=None):
    hdr, pl = parse_stream(buf, max_count)
    n = hdr["count"]
    K = (hdr["sh_degree"] + 1) ** 2
    res = {"hdr": hdr}

    def run(name, fn):
        t = time.time()
        d = RansDec(pl[name], name.decode())
        try:
            r = fn(d)
        except StreamError as e:
            # A refill past the end was recorded before this error: report
            # the truncation (what lvc does; the documents do not say).
            if d.pos > d.nw and e.code != "LVC_ERR_TRUNCATED":
                raise StreamError("LVC_ERR_TRUNCATED", "%s: rANS substream "
                                  "truncated (then: %s)" % (d.name, e))
            raise
        d.finish()
        if timing is not None:
            timing[name.decode()] = time.time() - t
        return r

    res["pos"] = run(b"spos", lambda d: decode_positions(d, hdr))
    res["rot"] = run(b"srot", lambda d: decode_rotations(d, hdr))
    res["scale"] = run(b"sscl", lambda d: scaled(decode_channels(d, n, 3),
                                                  hdr["scale_bits"]))
    res["opacity"] = run(b"sopa", lambda d: scaled(decode_channels(d, n, 1),
                                                    hdr["opacity_bits"]))
    res["dc"] = run(b"scol", lambda d: scaled(decode_channels(d, n, 3),
                                               hdr["color_bits"]))
    if K > 1:
        res["rest"] = run(b"sshr", lambda d: decode_sh_rest(d, hdr))
    return res


def write_ply(res, path):
    hdr = res["hdr"]
    n = hdr["count"]
    K = (hdr["sh_degree"] + 1) ** 2
    R = 3 * (K - 1)
    props = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    props += ["f_rest_%d" % j for j in range(R)]
    props += ["opacity", "scale_0", "scale_1", "scale_2",
              "rot_0", "rot_1", "rot_2", "rot_3"]
    head = "ply\nformat binary_little_endian 1.0\nelement vertex %d\n" % n
    head += "".join("property float %s\n" % p for p in props)
    head += "end_header\n"
    pos, rot, scl, opa, dc = res["pos"], res["rot"], res["scale"], res["opacity"], res["dc"]
    rest = res.get("rest", [])
    pack = struct.Struct("<%df" % len(props)).pack
    zero3 = [0.0, 0.0, 0.0]
    chunks = [head.encode("ascii")]
    for i in range(n):
        row = pos[3 * i:3 * i + 3] + zero3 + dc[3 * i:3 * i + 3] + rest[R * i:R * (i + 1)]
        row.append(opa[i])
        row += scl[3 * i:3 * i + 3]
        row += rot[4 * i:4 * i + 4]
        chunks.append(pack(*row))   # each double rounded once to float
    with open(path, "wb") as f:
        f.write(b"".join(chunks))


def main(argv):
    args = []
    max_count = DEFAULT_MAX_COUNT
    verbose = False
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--max-count":
            i += 1
            max_count = int(argv[i]) or DEFAULT_MAX_COUNT
        elif a in ("-v", "--verbose"):
            verbose = True
        else:
            args.append(a)
        i += 1
    if len(args) not in (1, 2):
        sys.stderr.write("usage: splat_spec_decode.py STREAM.lvc [OUT.ply] "
                         "[--max-count N] [-v]\n")
        return 1
    try:
        with open(args[0], "rb") as f:
            buf = f.read()
    except OSError as e:
        sys.stderr.write("splat_spec_decode: %s\n" % e)
        return 2
    timing = {}
    t0 = time.time()
    try:
        res = decode(buf, max_count, timing)
    except StreamError as e:
        sys.stderr.write("splat_spec_decode: %s: %s\n" % (args[0], e))
        return 3
    if len(args) == 2:
        write_ply(res, args[1])
    if verbose:
        h = res["hdr"]
        sys.stderr.write("%s: %d splats, SH degree %d, codebook %d, %.2f s (%s)\n" % (
            args[0], h["count"], h["sh_degree"], h["codebook"], time.time() - t0,
            ", ".join("%s %.2f" % kv for kv in timing.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

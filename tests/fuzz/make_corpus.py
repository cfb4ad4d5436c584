#!/usr/bin/python3
"""Regenerate the seed corpus of the fuzz targets (tests/fuzz/corpus).

    /usr/bin/python3 tests/fuzz/make_corpus.py BUILD_DIR

Streams are encoded by BUILD_DIR/apps/lvcenc from small generated images
(BUILD_DIR/tests/apps/lvc_apps_tool); PNGs are written here (every colour
type and bit depth, palette with tRNS, Adam7), and PGM, PPM and PAM
files, Gaussian-splat PLY and .splat scenes, and Y4M and raw YUV files; video streams
from small generated clips; model files by
models/train/lvcm.py; rANS inputs follow fuzz_rans.c's layout. Files named
crash-* / regress-* (minimized findings) and fuzz-* (inputs kept from
fuzzing runs by libFuzzer -merge=1) are kept as they are. Streams
depend on the embedded weights: after a retraining, rerun this script
(and update the two video digests pinned in tests/video/test_video_codec.c,
test_golden).
"""
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models", "train"))
import lvcm  # noqa: E402
import numpy as np  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clean(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for n in os.listdir(d):
            if not n.startswith(("crash-", "regress-", "fuzz-")):
                os.remove(os.path.join(d, n))


# ------------------------------------------------------------------ streams

def crc_box(typ, flags, payload):
    body = typ + bytes([flags]) + varint(len(payload)) + payload
    return body + struct.pack("<I", zlib.crc32(body))


def varint(n):
    var = bytearray()
    while n >= 0x80:
        var.append((n & 0x7F) | 0x80)
        n >>= 7
    var.append(n)
    return bytes(var)


def skip_varint(b, pos):
    while b[pos] & 0x80:
        pos += 1
    return pos + 1


def add_boxes(stream, boxes, after_ihdr=True):
    """Insert boxes after ihdr (or at the end), fixing ihdr's box count."""
    hdr, rest = stream[:6], stream[6:]
    # ihdr: type(4) flags(1) len(1) payload crc(4); the payload
    # (doc/bitstream.md 4.2): width, height, 4 bytes, quality, overlap,
    # tile_w, tile_h, model id, 8-byte weights id, num_boxes (varints)
    assert rest[:4] == b"ihdr" and rest[5] < 0x80
    n = rest[5]
    ihdr = rest[6:6 + n]
    pos = skip_varint(ihdr, skip_varint(ihdr, 0)) + 4
    for _ in range(5):
        pos = skip_varint(ihdr, pos)
    pos += 8
    nb, k = 0, 0
    while True:
        nb |= (ihdr[pos] & 0x7F) << (7 * k)
        if not ihdr[pos] & 0x80:
            break
        pos, k = pos + 1, k + 1
    assert pos + 1 == n
    head = ihdr[:pos - k]
    tail = rest[6 + n + 4:]
    extra = b"".join(crc_box(t, f, p) for t, f, p in boxes)
    new_ihdr = crc_box(b"ihdr", 1, head + varint(nb + len(boxes)))
    return hdr + new_ihdr + (extra + tail if after_ihdr else tail + extra)


def streams(build):
    tool = os.path.join(build, "tests", "apps", "lvc_apps_tool")
    enc = os.path.join(build, "apps", "lvcenc")
    cases = [
        # name, w, h, channels, depth, extra lvcenc args
        ("rgb_16x16", 16, 16, 3, 8, []),
        ("rgb_40x24", 40, 24, 3, 8, []),
        ("rgb_70x70_tile64", 70, 70, 3, 8, ["--tile", "64"]),
        ("rgb_130x20_tile64", 130, 20, 3, 8, ["--tile", "64"]),
        ("gray_40x24", 40, 24, 1, 8, []),
        ("rgba_40x24", 40, 24, 4, 8, []),
        ("graya_24x24", 24, 24, 2, 8, []),
        ("rgb16_16x16", 16, 16, 3, 16, []),
        ("rgba16_20x12_tile64", 20, 12, 4, 16, ["--tile", "64"]),
        ("rgb_16x16_q0", 16, 16, 3, 8, ["-q", "0"]),
        ("rgb_16x16_q100", 16, 16, 3, 8, ["-q", "100"]),
        ("rgb_1x1", 1, 1, 3, 8, []),
        ("gray_1x33", 1, 33, 1, 8, []),
    ]
    # Every other embedded model codes the small cases too.
    listing = subprocess.run([enc, "--list-models"], check=True, capture_output=True,
                             text=True).stdout.split("\n")
    for line in listing:
        f = line.split()
        if len(f) > 3 and f[3] != "*":
            cases += [("rgb_16x16_" + f[0], 16, 16, 3, 8, ["-m", f[0]]),
                      ("rgba_40x24_" + f[0], 40, 24, 4, 8, ["-m", f[0]])]
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, w, h, ch, depth, args) in enumerate(cases):
            png = os.path.join(tmp, name + ".png")
            lvc = os.path.join(tmp, name + ".lvc")
            subprocess.run([tool, "png", png, str(w), str(h), str(ch), str(depth), str(i + 1)],
                           check=True)
            subprocess.run([enc, "--quiet", "--threads", "1", png, "-o", lvc] + args,
                           check=True)
            with open(lvc, "rb") as f:
                res[name] = f.read()
    return res


# --------------------------------------------------------------------- PNGs

def png_chunk(typ, data):
    return struct.pack(">I", len(data)) + typ + data + struct.pack(">I", zlib.crc32(typ + data))


def png_rows(rows, ctype, depth, w, interlace):
    """rows: list of lists of samples per pixel (tuples); returns IDAT data."""
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]

    def pack(pixels):
        bits = []
        out = bytearray([0])  # filter: none
        if depth < 8:
            acc, n = 0, 0
            for p in pixels:
                acc = (acc << depth) | p[0]
                n += depth
                if n == 8:
                    out.append(acc)
                    acc, n = 0, 0
            if n:
                out.append(acc << (8 - n))
        else:
            for p in pixels:
                for c in range(chans):
                    out += p[c].to_bytes(depth // 8, "big")
        del bits
        return bytes(out)

    h = len(rows)
    if not interlace:
        return b"".join(pack(r) for r in rows)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2)]
    data = b""
    for x0, y0, dx, dy in passes:
        if x0 >= w or y0 >= h:
            continue
        for y in range(y0, h, dy):
            data += pack([rows[y][x] for x in range(x0, w, dx)])
    return data


def make_png(w, h, ctype, depth, interlace=0, palette=None, trns=None, seed=1,
             extra_chunks=()):
    rnd = random.Random(seed)
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    maxv = (1 << depth) - 1
    if ctype == 3:
        maxv = len(palette) - 1
    rows = [[tuple(rnd.randint(0, maxv) for _ in range(chans)) for _ in range(w)]
            for _ in range(h)]
    raw = png_rows(rows, ctype, depth, w, interlace)
    b = b"\x89PNG\r\n\x1a\n"
    b += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))
    for c in extra_chunks:
        b += c
    if palette:
        b += png_chunk(b"PLTE", b"".join(bytes(p) for p in palette))
    if trns is not None:
        b += png_chunk(b"tRNS", trns)
    b += png_chunk(b"IDAT", zlib.compress(raw, 9))
    b += png_chunk(b"IEND", b"")
    return b


def pngs():
    pal4 = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]
    res = {
        "gray1_9x5.png": make_png(9, 5, 0, 1),
        "gray2_7x3.png": make_png(7, 3, 0, 2),
        "gray4_5x4.png": make_png(5, 4, 0, 4),
        "gray8_8x8.png": make_png(8, 8, 0, 8),
        "gray16_4x4.png": make_png(4, 4, 0, 16),
        "graya8_6x3.png": make_png(6, 3, 4, 8),
        "graya16_3x3.png": make_png(3, 3, 4, 16),
        "rgb8_8x6.png": make_png(8, 6, 2, 8),
        "rgb16_3x2.png": make_png(3, 2, 2, 16),
        "rgba8_5x5.png": make_png(5, 5, 6, 8),
        "rgba16_2x2.png": make_png(2, 2, 6, 16),
        "pal2_8x4.png": make_png(8, 4, 3, 2, palette=pal4),
        "pal8_trns_6x6.png": make_png(6, 6, 3, 8, palette=pal4, trns=b"\x00\x80"),
        "gray8_trns_4x4.png": make_png(4, 4, 0, 8, trns=b"\x00\x07"),
        "rgb8_adam7_11x9.png": make_png(11, 9, 2, 8, interlace=1),
        "gray1_adam7_9x9.png": make_png(9, 9, 0, 1, interlace=1),
        "rgb8_gamma_chrm_4x4.png": make_png(
            4, 4, 2, 8, extra_chunks=[png_chunk(b"gAMA", struct.pack(">I", 45455)),
                                      png_chunk(b"sRGB", b"\x00")]),
        "rgb8_1x1.png": make_png(1, 1, 2, 8),
    }
    return res


# --------------------------------------------------------------- Netpbm

def make_pnm(kind, w, h, ch, maxval, seed=1, comment=False, tupltype=True):
    rnd = random.Random(seed)
    n = w * h * ch
    samples = [rnd.randint(0, maxval) for _ in range(n)]
    data = bytes(samples) if maxval < 256 else b"".join(struct.pack(">H", v) for v in samples)
    if kind == "P7":
        types = {1: "GRAYSCALE", 2: "GRAYSCALE_ALPHA", 3: "RGB", 4: "RGB_ALPHA"}
        head = "P7\n" + ("# seed\n" if comment else "")
        head += "WIDTH %d\nHEIGHT %d\nDEPTH %d\nMAXVAL %d\n" % (w, h, ch, maxval)
        if tupltype:
            head += "TUPLTYPE %s\n" % types[ch]
        head += "ENDHDR\n"
    else:
        head = "%s%s\n%d %d\n%d\n" % (kind, " # seed" if comment else "", w, h, maxval)
    return head.encode() + data


def pnms():
    return {
        "pgm8_7x5.pgm": make_pnm("P5", 7, 5, 1, 255),
        "pgm16_4x3.pgm": make_pnm("P5", 4, 3, 1, 65535, seed=2),
        "pgm15_comment_6x2.pgm": make_pnm("P5", 6, 2, 1, 15, seed=3, comment=True),
        "ppm8_8x6.ppm": make_pnm("P6", 8, 6, 3, 255, seed=4),
        "ppm10bit_3x3.ppm": make_pnm("P6", 3, 3, 3, 1023, seed=5),
        "pam_gray_5x4.pam": make_pnm("P7", 5, 4, 1, 255, seed=6, comment=True),
        "pam_graya16_3x2.pam": make_pnm("P7", 3, 2, 2, 65535, seed=7),
        "pam_rgb_notype_4x4.pam": make_pnm("P7", 4, 4, 3, 255, seed=8, tupltype=False),
        "pam_rgba_5x5.pam": make_pnm("P7", 5, 5, 4, 255, seed=9),
        "pam_bw_8x2.pam": make_pnm("P7", 8, 2, 1, 1, seed=10).replace(
            b"GRAYSCALE", b"BLACKANDWHITE"),
        "ppm8_1x1.ppm": make_pnm("P6", 1, 1, 3, 255, seed=11),
    }


# ------------------------------------------------------------ Y4M, raw YUV

def y4m_frame_size(w, h, cs):
    if cs == "mono":
        return w * h
    cw, ch = (w + 1) // 2, (h + 1) // 2
    if cs.startswith("420"):
        return w * h + 2 * cw * ch
    if cs == "422":
        return w * h + 2 * cw * h
    return 3 * w * h


def make_y4m(w, h, cs, frames, seed=1, tokens="", frame_head="FRAME\n", size_cs=None):
    """A Y4M stream; cs None leaves the C token out (4:2:0 then)."""
    rnd = random.Random(seed)
    head = "YUV4MPEG2 W%d H%d%s%s\n" % (w, h, "" if cs is None else " C" + cs, tokens)
    n = y4m_frame_size(w, h, size_cs or cs or "420")
    data = head.encode()
    for _ in range(frames):
        data += frame_head.encode() + bytes(rnd.randint(16, 240) for _ in range(n))
    return data


def y4ms():
    rnd = random.Random(7)
    return {
        "420jpeg_4x4_2f.y4m": make_y4m(4, 4, "420jpeg", 2, 1, " F25:1 Ip A0:0"),
        "420mpeg2_5x3_full.y4m": make_y4m(5, 3, "420mpeg2", 1, 2,
                                          " F30000:1001 A1:1 XCOLORRANGE=FULL"),
        "420paldv_3x3_params.y4m": make_y4m(3, 3, "420paldv", 2, 3, " Ip",
                                            frame_head="FRAME Ip XFOO=1\n"),
        "420_2x2.y4m": make_y4m(2, 2, "420", 1, 4),
        "422_6x2.y4m": make_y4m(6, 2, "422", 1, 5, " XCOLORRANGE=LIMITED"),
        "444_3x2.y4m": make_y4m(3, 2, "444", 2, 6, " A4:3"),
        "mono_4x1.y4m": make_y4m(4, 1, "mono", 3, 7),
        "noc_7x5.y4m": make_y4m(7, 5, None, 1, 8),
        "truncated_4x4.y4m": make_y4m(4, 4, "420jpeg", 2, 9)[:-5],
        "interlaced_4x4.y4m": make_y4m(4, 4, "420jpeg", 1, 10, " It"),
        "p10_2x2.y4m": make_y4m(2, 2, "420p10", 1, 11, size_cs="444"),
        # Raw planar: the fuzzer reads the format from the first 3 bytes
        # (width 1 + b0 % 48, height 1 + b1 % 48, chroma/siting/matrix/range
        # bits of b2).
        "raw_i420_5x4.yuv": bytes([4, 3, 0]) + bytes(rnd.randint(0, 255) for _ in range(2 * 32)),
        "raw_444_709_full_3x3.yuv": bytes([2, 2, 2 | 8 | 16]) +
                                    bytes(rnd.randint(0, 255) for _ in range(27)),
    }


# ------------------------------------------------------- Gaussian splats

PLY_FMT = {"char": "b", "int8": "b", "uchar": "B", "uint8": "B", "short": "h", "int16": "h",
           "ushort": "H", "uint16": "H", "int": "i", "int32": "i", "uint": "I",
           "uint32": "I", "float": "f", "float32": "f", "double": "d", "float64": "d"}


def gs_props(degree):
    """The vertex properties of a 3DGS PLY, in 3DGS order."""
    k = (degree + 1) ** 2
    return ([("float", n) for n in ("x", "y", "z", "nx", "ny", "nz",
                                    "f_dc_0", "f_dc_1", "f_dc_2")] +
            [("float", "f_rest_%d" % i) for i in range(3 * (k - 1))] +
            [("float", n) for n in ("opacity", "scale_0", "scale_1", "scale_2",
                                    "rot_0", "rot_1", "rot_2", "rot_3")])


def splat_value(rnd, typ, name):
    if PLY_FMT[typ] not in "fd":
        return rnd.randint(0, 100)
    for prefix, lo, hi in (("scale", -7, -1), ("rot", -1, 1), ("opacity", -5, 5),
                           ("f_rest", -0.2, 0.2)):
        if name.startswith(prefix):
            return rnd.uniform(lo, hi)
    return rnd.uniform(-3, 3)


def vertices(props, count, seed):
    rnd = random.Random(seed)
    return ("vertex", props, [[splat_value(rnd, t, n) for t, n in props]
                              for _ in range(count)])


def ply_file(fmt, elements, crlf=False):
    """elements: (name, properties, records); a property is (type, name) or
    ("list", count type, item type, name), a list's value a Python list."""
    nl = "\r\n" if crlf else "\n"
    head = ["ply", "format %s 1.0" % fmt, "comment lvc fuzz seed"]
    for name, props, recs in elements:
        head.append("element %s %d" % (name, len(recs)))
        head += ["property " + " ".join(p) for p in props]
    head.append("end_header")
    out = (nl.join(head) + nl).encode()
    end = "<" if fmt == "binary_little_endian" else ">"
    for name, props, recs in elements:
        for rec in recs:
            if fmt == "ascii":
                toks = []
                for p, v in zip(props, rec):
                    if p[0] == "list":
                        toks += [str(len(v))] + [repr(x) for x in v]
                    else:
                        toks.append(repr(v))
                out += (" ".join(toks) + nl).encode()
                continue
            for p, v in zip(props, rec):
                if p[0] == "list":
                    out += struct.pack(end + PLY_FMT[p[1]], len(v))
                    out += b"".join(struct.pack(end + PLY_FMT[p[2]], x) for x in v)
                else:
                    out += struct.pack(end + PLY_FMT[p[0]], v)
    return out


def splat_file(count, seed):
    """antimatter15 .splat: position, linear scale (f32), RGBA, rotation (u8)."""
    rnd = random.Random(seed)
    out = b""
    for _ in range(count):
        out += struct.pack("<3f", *(rnd.uniform(-3, 3) for _ in range(3)))
        out += struct.pack("<3f", *(rnd.uniform(0.001, 0.5) for _ in range(3)))
        out += bytes(rnd.randint(0, 255) for _ in range(8))
    return out


def plys():
    face = ("face", [("uchar", "flags"), ("list", "uchar", "int", "vertex_indices")],
            [[1, [0, 1, 2]], [2, []], [3, [2]]])
    edge = ("edge", [("int", "a"), ("list", "uint", "double", "w")], [[0, [0.5, 1.5]], [1, []]])
    odd = [("float", "opacity"), ("double", "x"), ("uchar", "rot_0"), ("float", "f_dc_2"),
           ("short", "nx"), ("int", "scale_1"), ("double", "y"), ("char", "rot_2"),
           ("ushort", "custom"), ("float", "f_dc_0"), ("uint", "rot_3"), ("float32", "z"),
           ("float64", "scale_0"), ("int16", "rot_1"), ("uint8", "f_dc_1"),
           ("int32", "scale_2")]
    sh2 = gs_props(2)
    random.Random(5).shuffle(sh2)
    return {
        "gs_sh0_le_3.ply": ply_file("binary_little_endian", [vertices(gs_props(0), 3, 1)]),
        "gs_sh1_le_2.ply": ply_file("binary_little_endian", [vertices(gs_props(1), 2, 2)]),
        "gs_sh3_le_1.ply": ply_file("binary_little_endian", [vertices(gs_props(3), 1, 3)]),
        "sh2_shuffled_be_2.ply": ply_file("binary_big_endian", [vertices(sh2, 2, 4)]),
        "ascii_crlf_face.ply": ply_file("ascii", [face, vertices(gs_props(0), 2, 6)],
                                        crlf=True),
        "types_be_edge.ply": ply_file("binary_big_endian",
                                      [face, vertices(odd, 3, 7), edge]),
        "types_ascii_edge.ply": ply_file("ascii", [vertices(odd, 2, 8), edge]),
        "empty_le.ply": ply_file("binary_little_endian", [vertices(gs_props(0), 0, 9)]),
        "scene_4.splat": splat_file(4, 10),
        "one.splat": splat_file(1, 11),
    }


# -------------------------------------------------------------- model files

def modelfiles():
    rnd = np.random.default_rng(7)
    res = {}
    res["small.lvcm"] = lvcm.to_bytes(
        {"a.weight": rnd.standard_normal((2, 3, 3, 3)).astype(np.float32),
         "a.bias": rnd.standard_normal(2).astype(np.float32),
         "b.half": rnd.standard_normal((4, 4)).astype(np.float16),
         "c.scalar": np.array(7, dtype=np.int32),
         "d.i8": np.arange(-8, 8, dtype=np.int8).reshape(4, 4),
         "e.u16": np.arange(6, dtype=np.uint16),
         "f.u32": np.arange(3, dtype=np.uint32),
         "g.i16": np.arange(5, dtype=np.int16),
         "h.u8": np.arange(9, dtype=np.uint8).reshape(1, 1, 3, 3)},
        {"arch": "meanscale", "N": 8, "M": 12, "out_fa": 8, "tail": 1e-9, "note": "x=y"})
    res["empty.lvcm"] = lvcm.to_bytes({}, {})
    res["meta_only.lvcm"] = lvcm.to_bytes({}, {"k": "v", "n": -9223372036854775808,
                                               "f": 1.5e300})
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 6.1e-5, 5.9e-8, 65504],
                       dtype=np.float16)
    res["f16_special.lvcm"] = lvcm.to_bytes({"h": special}, {"a": 1})
    return res


# ---------------------------------------------------------------- rANS inputs

def rans_inputs():
    rnd = random.Random(3)
    res = {}
    for i in range(12):
        mode = i % 2
        nt = 1 + i % 4
        b = bytearray([mode, nt - 1])
        for _ in range(nt):
            prec = rnd.randint(1, 16)
            maxsym = 256 if prec >= 9 else 1 << prec
            nsym = rnd.randint(1, maxsym)
            b += bytes([prec - 1, nsym - 1, rnd.randint(0, 63), rnd.randint(0, 1)])
            b += bytes(rnd.randint(0, 255) for _ in range(nsym))
        b += bytes(rnd.randint(0, 255) for _ in range(rnd.randint(0, 300)))
        res["seed_%02d" % i] = bytes(b)
    return res


def splat_streams(build):
    """Kind-3 streams of small synthetic scenes, as lvcenc writes them."""
    tool = os.path.join(build, "tests", "apps", "lvc_apps_tool")
    enc = os.path.join(build, "apps", "lvcenc")
    cases = [
        # name, splats, SH degree, lvcenc args
        ("s20_d0_q50", 20, 0, ["-q", "50"]),
        ("s40_d1_q0", 40, 1, ["-q", "0"]),
        ("s50_d2_q100", 50, 2, ["-q", "100"]),
        ("s80_d3_cb16", 80, 3, ["-q", "40", "--sh-codebook", "16"]),
        ("s30_d3_scalar", 30, 3, ["-q", "60", "--sh-codebook", "0"]),
        ("s1_d0", 1, 0, []),
        ("s0_empty", 0, 0, []),
    ]
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, count, degree, args) in enumerate(cases):
            ply = os.path.join(tmp, name + ".ply")
            lvc = os.path.join(tmp, name + ".lvc")
            subprocess.run([tool, "splat", ply, str(count), str(degree), str(i + 1)], check=True)
            subprocess.run([enc, ply, "-o", lvc, "--quiet", "--threads", "1"] + args, check=True)
            with open(lvc, "rb") as f:
                res[name] = f.read()
    return res


def video_streams(build):
    """Kind-2 streams of small synthetic clips, as lvcenc writes them."""
    tool = os.path.join(build, "tests", "apps", "lvc_apps_tool")
    enc = os.path.join(build, "apps", "lvcenc")
    cases = [
        # name, width, height, frames, tool args, lvcenc args
        ("v64x64_gop2", 64, 64, 3, [], ["-q", "30", "--gop", "2"]),
        ("v96x64_inter", 96, 64, 4, [], ["-q", "60"]),
        ("v70x40_444", 70, 40, 2, ["C444"], ["-q", "20"]),
        ("v128x64_tiles", 128, 64, 3, [], ["-q", "40", "--tile", "64"]),
        ("v16x16_intra", 16, 16, 2, [], ["-q", "90", "--gop", "1"]),
        ("v40x24_checkerboard", 40, 24, 3, [], ["-q", "50", "-m", "checkerboard"]),
    ]
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, w, h, n, targs, args in cases:
            y4m = os.path.join(tmp, name + ".y4m")
            lvc = os.path.join(tmp, name + ".lvc")
            subprocess.run([tool, "y4m", y4m, str(w), str(h), str(n)] + targs, check=True)
            subprocess.run([enc, y4m, "-o", lvc, "--quiet", "--threads", "1"] + args, check=True)
            with open(lvc, "rb") as f:
                res[name] = f.read()
    return res


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    for t in ("container", "decode", "png", "pnm", "modelfile", "rans", "ply", "splat", "y4m",
              "video"):
        clean(t)
    s = streams(build)
    for name, data in s.items():
        out("container", name + ".lvc", data)
        if len(data) <= 4096:
            out("decode", name + ".lvc", data)
    base = s["rgb_16x16"]
    out("container", "extra_optional_box.lvc",
        add_boxes(base, [(b"xtra", 0, b"hello"), (b"note", 0, b"")]))
    out("container", "extra_at_end.lvc", add_boxes(base, [(b"zzzz", 0, bytes(200))], False))
    out("container", "parm_box.lvc", add_boxes(base, [(b"parm", 1, b"\x01\x02\x03")]))
    out("decode", "extra_optional_box.lvc", add_boxes(base, [(b"xtra", 0, b"hi")]))
    for name, data in pngs().items():
        out("png", name, data)
    for name, data in pnms().items():
        out("pnm", name, data)
    for name, data in plys().items():
        out("ply", name, data)
    for name, data in y4ms().items():
        out("y4m", name, data)
    for name, data in splat_streams(build).items():
        out("splat", name + ".lvc", data)
    for name, data in video_streams(build).items():
        out("video", name + ".lvc", data)
    for name, data in modelfiles().items():
        out("modelfile", name, data)
    for name, data in rans_inputs().items():
        out("rans", name, data)


if __name__ == "__main__":
    main()

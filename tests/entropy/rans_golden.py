#!/usr/bin/python3
"""An rANS encoder written from doc/entropy.md alone, independent of
entropy/rans.c: it prints the bytes test_rans_golden (test_entropy.c)
freezes. With --states 4 it gives format version 1's bytes (four
interleaved states, slot i on state i mod 4).

    python3 tests/entropy/rans_golden.py [--states 1|4]
"""
import sys

L = 1 << 16
CDF = [0, 3, 10, 30, 50, 60, 63, 64]   # values -3..2, then the escape
PREC, OFFSET, NSYM = 6, -3, 7
VALUES = [0, -1, 1, 0, 2, -3, 5, 0, -100000, -2**31, 2**31 - 1, 0, 1]


def main():
    ns = 4 if "--states" in sys.argv and sys.argv[sys.argv.index("--states") + 1] == "4" else 1
    ops, slot = [], 0

    def put(start, freq, prec, st):
        ops.append((start, freq, prec, st))

    for i, v in enumerate(VALUES):
        st = slot % ns
        slot += 1
        lo, hi = OFFSET, OFFSET + NSYM - 2
        if lo <= v <= hi:
            s = v - OFFSET
            put(CDF[s], CDF[s + 1] - CDF[s], PREC, st)
        else:   # escape symbol, then the payload on the same state (section 1.5)
            s = NSYM - 1
            put(CDF[s], CDF[s + 1] - CDF[s], PREC, st)
            d = v > hi
            u = v - hi if d else lo - v
            nb = u.bit_length()
            put(d | (nb - 1) << 1, 1, 7, st)
            bits, rest = u & ~(1 << (nb - 1)), nb - 1
            while rest > 0:
                k = min(rest, 16)
                put(bits & ((1 << k) - 1), 1, k, st)
                bits >>= k
                rest -= k
        if i == 4:   # 11 raw bits after the fifth value
            put(0x5a5, 1, 11, slot % ns)
            slot += 1
    x, words = [L] * ns, []
    for start, freq, prec, j in reversed(ops):   # section 1.6
        if x[j] >= freq << (32 - prec):
            words.append(x[j] & 0xffff)
            x[j] >>= 16
        x[j] = ((x[j] // freq) << prec) + x[j] % freq + start
    out = b"".join(s.to_bytes(4, "little") for s in x)
    out += b"".join(w.to_bytes(2, "little") for w in reversed(words))
    print(f"{len(out)} bytes")
    for i in range(0, len(out), 12):
        print("    " + " ".join(f"0x{b:02x}," for b in out[i:i + 12]))


if __name__ == "__main__":
    main()

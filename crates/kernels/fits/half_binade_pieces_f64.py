"""Fits the 16 half-binade pieces of `GELU_CENTERS_F64`, `GELU_TABLE_F64` and
`GELU_DERIVATIVE_TABLE_F64` (crates/kernels/src/math.rs) and prints them as Rust.

The tail of GELU at a = |x| for f64 on paths with a fast 16-entry lookup (AVX-512): one piece
per value of (bits(a) >> 51) mod 16, that is per binade and top mantissa bit, for a in
[1/4, 64): the pieces [2^e, 1.5 2^e) and [1.5 2^e, 2^(e+1)).

- Below 1/2 a piece holds T(a) = a Phi(-a) itself (the caller skips the exponential there).
  The piece of [1/4, 3/8) is fitted on [0, 3/8) with center 0 and a zero constant term (every
  a < 1/4 is looked up there), so that T keeps its relative accuracy down to 0.
- From 1/2 on a piece holds K(a) = a e^(a^2/2) Phi(-a) = a erfcx(a / sqrt 2) / 2, and the
  caller multiplies by e^(-a^2/2). The cap of gelu (37.75) ends the piece of [32, 48); the slot
  of [48, 64), never reached, repeats it.

The derivative's table holds, on the same pieces and centers, M(a) = K(a)/a - a/sqrt(2 pi)
(gelu'(-a) = e^(-a^2/2) M(a)), below 1/2 the product D(a) = Phi(-a) - a phi(a) itself, fitted
for error relative to the larger of its two terms (M has a zero near a = 0.7518, where the
derivative has one), every piece with a constant term.

Each piece: a polynomial of degree D in u = a - c (c an f64 near the middle of the piece, the
one among 801 neighbours whose value rounds to f64 with the least relative error, so the
constant term is nearly exact; u is exact by Sterbenz's lemma), fitted for relative error
(Lawson-reweighted least squares on Chebyshev nodes, in 50-digit arithmetic), the linear and
quadratic coefficients rounded to f64 one at a time (the rest refitted), then the rest. The
error printed for each piece is that of the rounded coefficients, evaluated exactly at 1201
points of the piece.

Run: python3 half_binade_pieces_f64.py [D]   (mpmath; D = 15 is what math.rs holds; about a
minute)
"""
import struct
import sys

import mpmath as mp

mp.mp.dps = 50
D = int(sys.argv[1]) if len(sys.argv) > 1 else 15
SQRT2 = mp.sqrt(2)
CAP = 37.75


def K(a):
    return a * mp.erfc(a / SQRT2) * mp.exp(a * a / 2) / 2


def T(a):
    return a * mp.erfc(a / SQRT2) / 2


def M(a):
    return mp.erfc(a / SQRT2) * mp.exp(a * a / 2) / 2 - a / mp.sqrt(2 * mp.pi)


def M_scale(a):
    return max(mp.erfc(a / SQRT2) * mp.exp(a * a / 2) / 2, a / mp.sqrt(2 * mp.pi))


def Dd(a):
    return mp.erfc(a / SQRT2) / 2 - a * mp.exp(-a * a / 2) / mp.sqrt(2 * mp.pi)


def Dd_scale(a):
    return max(mp.erfc(a / SQRT2) / 2, a * mp.exp(-a * a / 2) / mp.sqrt(2 * mp.pi))


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def slot_of(a):
    return (bits(a) >> 51) % 16


def rounding_error(v):
    return abs(mp.mpf(float(v)) - v) / abs(v)


def pick_center(f, lo, hi):
    mid = bits(float((lo + hi) / 2))
    candidates = (from_bits(mid + d * (1 << 20)) for d in range(-400, 401))
    return min(candidates, key=lambda c: rounding_error(f(mp.mpf(c))))


def lawson(us, r, w, free):
    m = len(us)
    lw = [mp.mpf(1)] * m
    for _ in range(25):
        A = mp.matrix([[us[i] ** p * w[i] * lw[i] for p in free] for i in range(m)])
        b = mp.matrix([r[i] * w[i] * lw[i] for i in range(m)])
        x, _ = mp.qr_solve(A, b)
        res = [
            abs(sum(x[j] * us[i] ** p for j, p in enumerate(free)) - r[i]) * w[i]
            for i in range(m)
        ]
        total = sum(res)
        lw = [lw[i] * mp.sqrt(res[i] / total * m) if res[i] > 0 else lw[i] for i in range(m)]
        mean = sum(lw) / m
        lw = [v / mean for v in lw]
    return x


def fit_piece(f, lo, hi, c, zero, scale=None):
    scale = scale or (lambda a: abs(f(a)))
    lo, hi, cm = mp.mpf(lo), mp.mpf(hi), mp.mpf(c)
    m = 3 * D + 10
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (i + mp.mpf(1) / 2) / m) for i in range(m)]
    ys = [f(a) for a in nodes]
    us = [a - cm for a in nodes]
    w = [1 / scale(a) for a in nodes]
    fixed = {0: 0.0 if zero else float(f(cm))}
    while len(fixed) <= D:
        free = [p for p in range(1, D + 1) if p not in fixed]
        r = [y - sum(mp.mpf(v) * u**p for p, v in fixed.items()) for y, u in zip(ys, us)]
        x = lawson(us, r, w, free)
        if len(fixed) < 3:
            fixed[free[0]] = float(x[0])
        else:
            fixed.update((p, float(x[j])) for j, p in enumerate(free))
    coef = [fixed[p] for p in range(D, -1, -1)]
    err = mp.mpf(0)
    for i in range(1201):
        a = lo + (hi - lo) * mp.mpf(i) / 1200
        if a == 0:
            continue
        v = mp.mpf(0)
        for cc in coef:
            v = v * (a - cm) + mp.mpf(cc)
        err = max(err, abs(v - f(a)) / scale(a))
    return coef, err


def main():
    centers = [0.0] * 16
    table = [[0.0] * 16 for _ in range(D + 1)]
    derivative = [[0.0] * 16 for _ in range(D + 1)]
    for e in range(-2, 6):
        for p, q in ((1.0, 1.5), (1.5, 2.0)):
            lo, hi = 2.0**e * p, 2.0**e * q
            if lo > CAP:
                continue
            f = T if hi <= 0.5 else K
            zero = lo == 0.25
            lo_fit, hi_fit = (0.0 if zero else lo), min(hi, 38.0)
            c = 0.0 if zero else pick_center(f, mp.mpf(lo_fit), mp.mpf(hi_fit))
            coef, err = fit_piece(f, lo_fit, hi_fit, c, zero)
            s = slot_of(lo)
            name = "T" if f is T else "K"
            print(f"// slot {s:2}: {name} on [{lo_fit}, {hi_fit}), c = {c!r}, "
                  f"relative error 2^{float(mp.log(err, 2)):.2f}", file=sys.stderr)
            centers[s] = c
            fd, sd = (Dd, Dd_scale) if f is T else (M, M_scale)
            dcoef, derr = fit_piece(fd, lo_fit, hi_fit, c, False, sd)
            print(f"//   derivative: {'D' if f is T else 'M'}, error relative to the larger "
                  f"term 2^{float(mp.log(derr, 2)):.2f}", file=sys.stderr)
            for j in range(D + 1):
                table[j][s] = coef[j]
                derivative[j][s] = dcoef[j]
    # [48, 64) repeats [32, 48).
    centers[slot_of(48.0)] = centers[slot_of(32.0)]
    for row in table + derivative:
        row[slot_of(48.0)] = row[slot_of(32.0)]
    print("const GELU_CENTERS_F64: [f64; 16] = [")
    print("".join(f"    {v!r},\n" for v in centers), end="")
    print("];")
    for name, rows in (("GELU_TABLE_F64", table), ("GELU_DERIVATIVE_TABLE_F64", derivative)):
        print(f"const {name}: [[f64; 16]; {D + 1}] = [")
        for row in rows:
            print("    [" + ", ".join(repr(v) for v in row) + "],")
        print("];")


main()

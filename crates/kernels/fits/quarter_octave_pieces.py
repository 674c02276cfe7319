"""Fits the 32 quarter-octave pieces of `GELU_TABLE_F32`, `GELU_DERIVATIVE_TABLE_F32` and
`TANH_TABLE_F32` (crates/kernels/src/math.rs) and prints them as Rust.

K(a) = a e^(a^2/2) Phi(-a) = a erfcx(a / sqrt 2) / 2 on [0, 14), one piece per value of
(bits(a) >> 21) mod 32 for a in [2^-4, 14): quarter octaves. The piece of [2^-4, 1.25 * 2^-4)
is fitted on [0, 0.078125) with center 0 and a zero constant term (every a < 2^-4 is looked up
there), so that K keeps its relative accuracy down to 0. The slot of [14, 16), never reached
below the cap of 13.15, repeats [12, 14).

Each piece: a polynomial of degree D in u = a - c (c an f32 near the middle of the piece, the
one whose K(c) rounds to f32 with the least relative error, so the constant term is nearly
exact), fitted for relative error (Lawson-reweighted least squares on Chebyshev nodes), the
coefficients rounded to f32 one at a time from the constant term up, the rest refitted.

The derivative's table holds M(a) = K(a)/a - a/sqrt(2 pi) (gelu'(-a) = e^(-a^2/2) M(a)) on the
same pieces and centers, fitted for error relative to the larger of its two terms (M has a zero
near a = 0.7518, where the derivative has one), every piece with a constant term.

The tanh pieces are described where they are fitted, below.

Run: python3 quarter_octave_pieces.py [D]   (numpy and scipy; D = 5 is what math.rs holds)
"""
import struct
import sys

import numpy as np
from scipy.special import erfcx

D = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def K(a):
    return a * erfcx(a / np.sqrt(2.0)) / 2.0


def M(a):
    """The derivative's factor: gelu'(-a) = e^(-a^2/2) M(a), M(a) = K(a)/a - a/sqrt(2 pi)."""
    return erfcx(a / np.sqrt(2.0)) / 2.0 - a / np.sqrt(2.0 * np.pi)


def M_scale(a):
    """The larger of M's two terms: the scale its error is measured against (M has a zero)."""
    return np.maximum(erfcx(a / np.sqrt(2.0)) / 2.0, a / np.sqrt(2.0 * np.pi))


def f32(x):
    return float(np.float32(x))


def slot_of(a):
    return (struct.unpack("<I", struct.pack("<f", a))[0] >> 21) % 32


def fit_piece(lo, hi, c, zero, f=K, scale=K):
    m = 400
    t = np.cos(np.pi * (np.arange(m) + 0.5) / m)
    a = (lo + hi) / 2 + (hi - lo) / 2 * t
    if zero:
        a = a[a > 0]
    u = a - c
    y = f(a)
    w = 1.0 / scale(a)
    powers = list(range(1 if zero else 0, D + 1))
    fixed = {} if zero else {0: f32(f(c))}
    while any(p not in fixed for p in powers):
        free = [p for p in powers if p not in fixed]
        r = y - sum(fixed[p] * u**p for p in fixed)
        A = np.stack([u**p * w for p in free], axis=1)
        coef, *_ = np.linalg.lstsq(A, r * w, rcond=None)
        for _ in range(30):
            res = np.abs(A @ coef - r * w)
            ww = np.sqrt(res / res.sum() * len(res))
            coef, *_ = np.linalg.lstsq(A * ww[:, None], r * w * ww, rcond=None)
        fixed[free[0]] = f32(coef[0])
    aa = np.linspace(max(lo, 1e-6), hi, 20001)
    uu = aa - c
    approx = sum(fixed[p] * uu**p for p in fixed)
    err = np.max(np.abs((approx - f(aa)) / scale(aa)))
    return [fixed.get(p, 0.0) for p in range(D, -1, -1)], err


def best_center(c, f=K):
    cands = (np.float32(c) + np.arange(-3000, 3001) * np.spacing(np.float32(c))).astype(np.float64)
    kv = f(cands)
    rel = np.abs(kv.astype(np.float32).astype(np.float64) / kv - 1)
    return float(cands[np.argmin(rel)])


def rust(v):
    f = np.float32(v)
    s = np.format_float_positional(f, unique=True, trim="-") if abs(f) >= 1e-4 or f == 0 \
        else np.format_float_scientific(f, unique=True, trim="-")
    assert np.float32(float(s)) == f
    return s if ("e" in s or "." in s) else s + ".0"


def pieces():
    """(slot, lo, hi, first) of the 32 quarter octaves of [2^-4, 16); `first` is the piece of
    [2^-4, 1.25 * 2^-4), fitted from 0 (its `lo` is given as 0)."""
    for e in range(-4, 4):
        for j in range(4):
            lo, hi = 2.0**e * (1 + j / 4), 2.0**e * (1 + (j + 1) / 4)
            first = e == -4 and j == 0
            yield slot_of(lo), 0.0 if first else lo, hi, first


def print_vector(name, values):
    print(f"const {name}: [f64; 32] = [")
    for v in values:
        print(f"    {rust(v)},")
    print("];")


def print_table(name, rows):
    print(f"const {name}: [[f64; 32]; {D + 1}] = [")
    for row in rows:
        print("    [")
        for v in row:
            print(f"        {rust(v)},")
        print("    ],")
    print("];")


def new_table():
    return [[0.0] * 32 for _ in range(D + 1)]


tables, dtables, centers = new_table(), new_table(), [0.0] * 32
for slot, lo, hi, first in pieces():
    if first:
        c = 0.0
    elif lo == 14.0:
        lo, hi, c = 12.0, 14.0, best_center(13.0)
    else:
        c = best_center((lo + hi) / 2)
    coefs, err = fit_piece(lo, hi, c, first)
    dcoefs, derr = fit_piece(lo, hi, c, False, M, M_scale)
    print(f"// slot {slot:2} [{lo:.6g}, {hi:.6g}) c = {c:.9g}: K relative error "
          f"2^{np.log2(err):.1f}, M error 2^{np.log2(derr):.1f} of its larger term")
    centers[slot] = c
    for i in range(D + 1):
        tables[i][slot], dtables[i][slot] = coefs[i], dcoefs[i]
print_vector("GELU_CENTERS_F32", centers)
print_table("GELU_TABLE_F32", tables)
print_table("GELU_DERIVATIVE_TABLE_F32", dtables)


# tanh on [0, 16) (1 in f32 from 9.01 on): all 32 quarter-octave pieces, the first fitted on
# [0, 0.078125) with center 0 and no constant term (tanh a = a (1 - a^2/3 + ...)). From 0.5 on a
# piece holds tanh(a) - 1 = -2 / (e^(2a) + 1) (its base is 1), so that tanh = 1 + p is exact
# and rounds to 1 exactly where it should.
def tanh_minus(base):
    if base == 0:
        return np.tanh
    return lambda a: -2.0 / (np.exp(2.0 * a) + 1.0)


ttables, tcenters, tbase = new_table(), [0.0] * 32, [0.0] * 32
for slot, lo, hi, first in pieces():
    base = 1.0 if lo >= 0.5 else 0.0
    g = tanh_minus(base)
    # Error relative to tanh itself (the result), not to the small tanh - 1.
    scale = np.tanh if base else (lambda a, g=g: np.abs(g(a)))
    c = 0.0 if first else best_center((lo + hi) / 2, g)
    coefs, err = fit_piece(lo, hi, c, first, g, scale)
    print(f"// tanh slot {slot:2} [{lo:.6g}, {hi:.6g}) c = {c:.9g} base {base:.0f}: error "
          f"2^{np.log2(err):.1f} of tanh")
    tcenters[slot], tbase[slot] = c, base
    for i in range(D + 1):
        ttables[i][slot] = coefs[i]
print_vector("TANH_CENTERS_F32", tcenters)
print_vector("TANH_BASE_F32", tbase)
print_table("TANH_TABLE_F32", ttables)

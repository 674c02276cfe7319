"""Prints reference lines for tests/data/f64_reference.txt (same format: function, input bits,
correctly rounded result bits, hex) that cover the f64 pieces of `GELU_TABLE_F64`: for `gelu`
and its derivative (`gelu_derivative`, `Phi(x) + x phi(x)`), points spread over every piece and
both signs and the f64s next to every piece boundary (and the cap); for `erf`, the same for the
pieces `erf` evaluates at `a sqrt 2` (`1 <= a <= 6`).
mpmath at 60 digits; `float()` rounds to nearest. Seeded, so the output is reproducible.

Run: python3 f64_piece_points.py >> ../tests/data/f64_reference.txt
"""
import random
import struct

import mpmath as mp

mp.mp.dps = 60
BOUNDS = [0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 37.75]


def hexbits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def near(x, d):
    return struct.unpack("<d", struct.pack("<Q", struct.unpack("<Q", struct.pack("<d", x))[0] + d))[0]


def gelu(x):
    x = mp.mpf(x)
    return x * mp.erfc(-x / mp.sqrt(2)) / 2


def gelu_derivative(x):
    x = mp.mpf(x)
    return mp.erfc(-x / mp.sqrt(2)) / 2 + x * mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def erf(x):
    return mp.erf(mp.mpf(x))


def emit(name, f, xs):
    for x in xs:
        print(f"{name} {hexbits(x)} {hexbits(float(f(x)))}")


rng = random.Random(20261128)
xs = []
for b in BOUNDS:
    xs += [near(b, d) for d in range(-3, 4)]
pieces = [(0.0, 0.25)] + list(zip(BOUNDS, BOUNDS[1:]))
for lo, hi in pieces:
    xs += [rng.uniform(lo, hi) for _ in range(60)]
xs += [2.0 ** rng.uniform(-40, -2) for _ in range(60)]
print("# gelu, its derivative and erf over the f64 pieces of GELU_TABLE_F64 (fits/f64_piece_points.py)")
emit("gelu", gelu, xs + [-x for x in xs])
emit("gelu_derivative", gelu_derivative, xs + [-x for x in xs])
s2 = 2.0**0.5
ys = []
for b in [1.5, 2.0, 3.0, 4.0, 6.0, 8.0]:
    ys += [near(b / s2, d) for d in range(-3, 4)]
ys += [rng.uniform(1.0, 6.0) for _ in range(300)]
emit("erf", erf, ys + [-y for y in ys])

"""`x * y + z` rounded once (a fused multiply-add), which numpy lacks.

torch computes `a.add(b, alpha=y)` as fma(b, y, a) on the CPU (its vectorised kernel, and the compiled scalar
tail too): one rounding, where `a + y * b` in numpy rounds twice and differs in the last bit for about one
element in five (measured, float32 and float64). To agree to the bit, minigrad computes the exact value and
rounds it once:

- float32: x * y is exact in float64 (24 + 24 bits < 53), and the sum with z is made exact as a float64 sum
  s plus its error e (TwoSum). s rounded *to odd* (nudged to its odd neighbour when e != 0) then rounds to
  float32 correctly, since float64 has more than 24 + 2 bits (Boldo & Melquiond, IEEE TC 2008).
- float64: the same paper's emulation: x * y = p + q exactly (Dekker's product), z + p = t + r exactly
  (TwoSum), then t + round_to_odd(r + q), rounded once. It needs no overflow in the splitting and no
  underflow of the error terms; the rare elements outside that range are computed exactly with fractions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from minigrad.autograd import Array

SAFE = 2.0**900  # float64 elements with |x|, |z|, |x*y| in (1/SAFE, SAFE) (or an exact zero) need no fallback


def two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """s = a + b rounded, and e with s + e = a + b exactly (Knuth)."""
    s = a + b
    b_part = s - a
    return s, (a - (s - b_part)) + (b - b_part)


def round_to_odd(s: Array, e: Array) -> Array:
    """The value s + e (s = that sum rounded to nearest) rounded to odd: s itself if exact or if its last bit
    is already odd, else its neighbour towards e (which is odd)."""
    uint = np.uint32 if s.dtype == np.float32 else np.uint64
    even = (s.view(uint) & 1) == 0
    return np.where((e != 0) & even, np.nextafter(s, np.where(e > 0, np.inf, -np.inf).astype(s.dtype)), s)


def split(a: Array) -> tuple[Array, Array]:
    """a = hi + lo exactly, each with at most 26 significant bits (Veltkamp), so hi * hi' is exact."""
    c = a * (2.0**27 + 1)
    hi = c - (c - a)
    return hi, a - hi


def fused_multiply_add(x: Array, y: Any, z: Array) -> Array:
    """x * y + z with one rounding; x and z arrays of one float dtype, y a number of that dtype."""
    with np.errstate(all="ignore"):
        if x.dtype == np.float32:
            s, e = two_sum(z.astype(np.float64), x.astype(np.float64) * np.float64(y))
            exact = round_to_odd(s, e).astype(np.float32)
            return np.asarray(np.where(np.isfinite(s) & np.isfinite(e), exact, non_finite(x, y, z)))
        x, z = np.broadcast_arrays(x, z)
        p = x * y
        x_hi, x_lo = split(x)
        y_hi, y_lo = split(np.asarray(y))
        q = ((x_hi * y_hi - p) + x_hi * y_lo + x_lo * y_hi) + x_lo * y_lo  # x * y = p + q exactly
        t, r = two_sum(z, p)
        result = t + round_to_odd(*two_sum(r, q))
        plain = non_finite(x, y, z)  # also right where the product is an exact zero
        in_range = [(np.abs(v) < SAFE) & ((np.abs(v) > 1 / SAFE) | (v == 0)) for v in (x, z, p)]
        fast = in_range[0] & in_range[1] & in_range[2] & (abs(y) < SAFE)
        result = np.where(fast & (p != 0), result, plain)
        extreme = ~fast & np.isfinite(x) & np.isfinite(z) & (x != 0) & bool(np.isfinite(y) and y != 0)
        flat = result.reshape(-1)
        for k in np.flatnonzero(extreme):
            flat[k] = exact_fma(float(x.flat[k]), float(y), float(z.flat[k]))
        return np.asarray(result)


def non_finite(x: Array, y: Any, z: Array) -> Array:
    """fma where an input is inf or nan: x * y + z, except that an exact product of finite numbers can't
    overflow, so an infinite z stays as it is."""
    return np.asarray(np.where(np.isfinite(x) & np.isfinite(y) & ~np.isfinite(z), z, x * y + z))


def exact_fma(x: float, y: float, z: float) -> float:
    """The correctly rounded x * y + z, from exact rational arithmetic (for the rare extreme elements)."""
    value = Fraction(x) * Fraction(y) + Fraction(z)
    try:
        return float(value)  # int / int: correctly rounded
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")

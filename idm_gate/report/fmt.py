"""Number formatting shared by the text and Markdown renderers.

One format per kind of number, in every report: densities and error rates with 4 significant digits
(``num``), sizes with 3 in the unit that fits them (``size``: "240 MB", "1.20 GB"), relative changes
as ``-49.9 %`` (``percent``), size ratios as ``×2.00``. Markdown passes ``space=NBSP`` so that a
change such as ``▼ -49.9 %`` never wraps in a narrow table cell.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal

from ..data import Scale

NBSP = "\u00a0"
# decimal units, as the density's own GB (bytes / 10^9)
_SIZE_UNITS = (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3))


def num(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def score(value: float, scale: Scale) -> str:
    """An eval score as read, on its scale: ``0.5443`` (a fraction) or ``54.43 %`` (a percentage)."""
    return f"{num(value)} %" if scale is Scale.PERCENT else num(value)


def pm(x: float | None, se: float | None, digits: int = 4) -> str:
    return num(x, digits) if se is None else f"{num(x, digits)} ± {num(se, digits)}"


def count(n: int | None) -> str:
    if n is None:
        return "n/a"
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return str(n)


def gb(size_bytes: int) -> str:
    g = size_bytes / 1e9
    return f"{g:.4g}" if g >= 0.01 else f"{g:.6f}"


def percent(x: float, digits: int = 1, space: str = " ", sign: bool = True) -> str:
    """A fraction as a percentage: ``percent(-0.499) == "-49.9 %"``; ``sign=False`` drops the "+"."""
    return f"{x * 100:{'+' if sign else ''}.{digits}f}{space}%"


def _sig(x: float, digits: int) -> str:
    """``x`` (>= 0) with ``digits`` significant digits, trailing zeros kept: 1.2 -> "1.20"."""
    if x == 0:
        return "0"
    rounded = float(f"{x:.{digits}g}")  # 0.99996 at 3 digits is "1.00", not "1.000"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"{x:.{decimals}f}"


def _unit(size_bytes: float, digits: int) -> tuple[str, float]:
    rounded = float(f"{float(size_bytes):.{digits}g}")  # 999.96 MB at 3 digits is 1.00 GB
    return next(((u, d) for u, d in _SIZE_UNITS if rounded >= d), ("B", 1.0))


def _in(size_bytes: float, div: float, digits: int) -> str:
    return str(int(size_bytes)) if div == 1.0 else _sig(size_bytes / div, digits)


def size(size_bytes: float, digits: int = 3, space: str = " ") -> str:
    """A size in the decimal unit that fits it: 120_000_000 -> "120 MB", 1.2e9 -> "1.20 GB"."""
    unit, div = _unit(size_bytes, digits)
    return f"{_in(size_bytes, div, digits)}{space}{unit}"


def size_pair(a: int, b: int, space: str = " ") -> tuple[str, str]:
    """Two sizes in one unit, with as many digits as it takes for different sizes to read differently."""
    unit, div = _unit(max(a, b), 3)
    x, y = _in(a, div, 3), _in(b, div, 3)
    for digits in range(4, 16):
        if a == b or x != y:
            break
        x, y = _in(a, div, digits), _in(b, div, digits)
    return f"{x}{space}{unit}", f"{y}{space}{unit}"


def floor_sig(x: float, digits: int) -> float:
    """The largest number with ``digits`` significant digits that is <= ``x`` (x > 0): an "at most"
    bound rounded so that the rounded value still holds."""
    if x <= 0 or not math.isfinite(x):
        return x
    # 12 significant digits first: a bound of exactly 1 GB computed as 999,999,999.9999 reads "1.00 GB"
    x = float(f"{x:.12g}")
    exp = math.floor(math.log10(x)) - digits + 1
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(exp), rounding=ROUND_FLOOR))


def ratio(x: float) -> str:
    """A size ratio: 2.0 -> "×2.00", 0.5 -> "×0.500"."""
    return f"×{_sig(x, 3)}"

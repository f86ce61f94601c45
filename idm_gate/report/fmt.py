"""Number formatting shared by the text and Markdown renderers."""

from __future__ import annotations


def num(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


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


def pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x * 100:+.{digits}f} %"

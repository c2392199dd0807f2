"""Shared by the eval/ scripts: the interval of a measured rate."""

from __future__ import annotations

import math


def wilson(k: int, n: int, z: float = 1.96) -> list:
    """95 % Wilson interval of a rate k/n ([None, None] when n is 0), rounded to 3 places."""
    if n == 0:
        return [None, None]
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [round(max(0.0, mid - half), 3), round(min(1.0, mid + half), 3)]

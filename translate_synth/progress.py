"""Progress lines and bars: on stderr, bars only on a terminal, nothing with --quiet."""

from __future__ import annotations

import sys

QUIET = False


def log(msg: str) -> None:
    if not QUIET:
        print(f"[translate-synth] {msg}", file=sys.stderr, flush=True)


def bar(desc: str, total: int | None = None, unit: str = "rows"):
    """A tqdm bar, disabled when quiet or when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(desc=desc, total=total, unit=unit, leave=False, dynamic_ncols=True,
                disable=QUIET or not sys.stderr.isatty())

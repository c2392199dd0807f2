"""Monolingual text before synthesis: held-out sentences and duplicates are dropped, and counted.

Plain functions over texts, called by both executors: the local one loops over the inputs
(``clean``), the Ray one computes the same keys in Ray tasks and keeps the first occurrence of
each with a Ray ``groupby`` (the global operation), then records what it dropped the same way.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from translate_synth.hashset import HashSet
from translate_synth.text import norm_key, stable_int

REASONS = ("heldout_overlap", "duplicate")


def mono_key(text: str) -> tuple[str, int]:
    """(normalised text, its dedup hash): two texts with the same key are the same sentence."""
    k = norm_key(text)
    return k, stable_int(k)


def is_heldout(key: str, heldout_keys: set) -> bool:
    """A sentence of the real valid/test sets: never translated, never trained on."""
    return key in heldout_keys


def record_drop(synth_stats, origin: str, input_stats, reason: str, n: int = 1) -> None:
    """Count ``n`` dropped texts of one input file for stats.json and the stderr summary."""
    if n:
        synth_stats.skipped[f"{origin}:{reason}"] += n
        if input_stats is not None:
            input_stats.dropped[reason] += n


def clean(texts: Iterable[tuple[str, object]], origin: str, heldout_keys: set,
          synth_stats) -> Iterator[str]:
    """(text, its file's InputStats) in input order -> the texts to synthesise from."""
    seen = HashSet()
    for text, st in texts:
        k, h = mono_key(text)
        if is_heldout(k, heldout_keys):
            record_drop(synth_stats, origin, st, "heldout_overlap")
        elif h in seen:
            record_drop(synth_stats, origin, st, "duplicate")
        else:
            seen.add(h)
            yield text

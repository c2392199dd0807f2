"""Length-bucketed batching: sort by length within a window, batch by a token budget.

Sorting everything at once would hold a whole corpus; sorting nothing pads short sentences to
the longest in their batch. A window of ``window`` texts is sorted by length and cut into
batches whose padded size (rows x longest) stays within ``max_tokens`` and ``max_rows``.
Callers put results back with the indices, so output order is input order.
"""

from __future__ import annotations


def token_batches(lengths: list[int], max_rows: int, max_tokens: int,
                  window: int | None = None) -> list[list[int]]:
    """Index batches covering ``range(len(lengths))``, each sorted by length, within budget."""
    n = len(lengths)
    window = window or max(max_rows * 50, 1000)
    batches = []
    for start in range(0, n, window):
        idx = sorted(range(start, min(n, start + window)), key=lambda i: (lengths[i], i))
        cur: list[int] = []
        longest = 0
        for i in idx:
            ln = max(1, lengths[i])
            if cur and (len(cur) + 1 > max_rows or max(longest, ln) * (len(cur) + 1) > max_tokens):
                batches.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, ln)
        if cur:
            batches.append(cur)
    return batches

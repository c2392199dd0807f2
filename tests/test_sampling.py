"""The one reservoir sampler (filter-stage medians, the collapse monitor, the report's lengths)."""

import random
from array import array

from translate_synth.sampling import Reservoir, reservoir


def _algorithm_r(items, k, rng):
    """Algorithm R as the filter stage, the collapse monitor and the report each wrote it."""
    out = []
    for n, it in enumerate(items):
        if n < k:
            out.append(it)
        else:
            j = rng.randrange(n + 1)
            if j < k:
                out[j] = it
    return out


def test_a_short_stream_is_kept_whole_in_order():
    assert reservoir(range(5), 10, 3) == [0, 1, 2, 3, 4]
    r = Reservoir(10, 3, array("f"))
    for v in (0.5, 1.5):
        r.add(v)
    assert list(r.items) == [0.5, 1.5] and r.n == 2


def test_the_sample_is_the_textbook_one_draw_for_draw():
    for seed in (0, 1, 7):
        assert reservoir(range(1000), 50, seed) == _algorithm_r(range(1000), 50,
                                                                random.Random(seed))


def test_one_shared_generator_continues_across_samples():
    mine, ref = random.Random(5), random.Random(5)
    got = [reservoir(range(300), 20, mine) for _ in range(3)]
    assert got == [_algorithm_r(range(300), 20, ref) for _ in range(3)]
    assert got[0] != got[1]  # the second sample draws on where the first left the generator


def test_every_item_is_about_equally_likely():
    hits = [0] * 100
    for seed in range(400):
        for it in reservoir(range(100), 10, seed):
            hits[it] += 1
    # 400 samples of 10 of 100: each item expected 40 times; binomial sd ~6
    assert min(hits) > 15 and max(hits) < 65

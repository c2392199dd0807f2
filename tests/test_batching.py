"""Length-bucketed batches: within budget, sorted, and every index exactly once."""

import random

from translate_synth.backends.batching import token_batches


def test_batches_cover_every_index_once_within_the_budget():
    rng = random.Random(0)
    lengths = [rng.randint(1, 120) for _ in range(1000)]
    batches = token_batches(lengths, max_rows=32, max_tokens=1024, window=300)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1000))
    for b in batches:
        assert len(b) <= 32 and max(lengths[i] for i in b) * len(b) <= max(1024, max(
            lengths[i] for i in b))
        assert [lengths[i] for i in b] == sorted(lengths[i] for i in b)
    # sorting within windows: far fewer padded tokens than fixed batches of input order
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    naive = sum(max(lengths[i:i + 8]) * len(lengths[i:i + 8]) for i in range(0, 1000, 8))
    assert padded < 0.8 * naive


def test_a_single_overlong_text_gets_its_own_batch():
    assert token_batches([5, 5000, 5], max_rows=8, max_tokens=100) == [[0, 2], [1]]


def test_translate_restores_input_order(tiny_nllb):
    from translate_synth.backends import make_translator
    from translate_synth.config import Decoding, build_config

    cfg = build_config({"lang": "sw", "model": {"id": str(tiny_nllb)}, "cache": {"enabled": False}})
    tr = make_translator(cfg)
    texts = ["short.", "a much much longer sentence with many words in it.", "mid length one."]
    d = Decoding(beam_size=1, max_new_tokens=6, batch_size=2, max_tokens=16)
    one_by_one = [tr.translate([t], "en", "sw", d)[0] for t in texts]
    assert tr.translate(texts, "en", "sw", d) == one_by_one

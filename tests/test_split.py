"""The real held-out split: seeded, sized, deduplicated, and leak-free."""

from translate_synth.config import SplitConfig
from translate_synth.split import Split, plan_split, route
from translate_synth.text import norm_key


def _pairs():
    base = [(f"Sentence number {i}.", f"Sentensi namba {i}.") for i in range(100)]
    # a duplicate, and a train pair that shares its source with pair 0
    return base + [base[3], ("Sentence number 0.", "Tafsiri nyingine.")]


def _split(seed, cfg=SplitConfig(valid=10, test=0.1)):
    plan, counts = plan_split(iter(_pairs()), cfg, seed)
    split = Split()
    train = list(route(lambda: iter(_pairs()), plan, split))
    return split, train, counts


def test_sizes_dedup_and_determinism():
    split, train, counts = _split(seed=1)
    assert counts == {"read": 102, "duplicates": 1, "distinct": 101}
    assert len(split.valid) == 10 and len(split.test) == 10
    again, train2, _ = _split(seed=1)
    assert again.valid == split.valid and train2 == train
    other, _, _ = _split(seed=2)
    assert other.valid != split.valid
    assert all(r["origin"] == "real" for r in split.valid + split.test + train)


def test_no_heldout_sentence_leaks_into_train():
    for seed in range(5):
        split, train, _ = _split(seed)
        held = {norm_key(r[s]) for r in split.valid + split.test for s in ("source", "target")}
        assert not any(norm_key(r["source"]) in held or norm_key(r["target"]) in held
                       for r in train)
        ids = [r["id"] for r in split.valid + split.test + train]
        assert len(ids) == len(set(ids))
        n = len(split.valid) + len(split.test) + len(train) + split.counts[
            "train_dropped_heldout_overlap"]
        assert n == 101


def test_tiny_corpus_keeps_a_training_row():
    pairs = [("a b", "c d"), ("e f", "g h")]
    plan, _ = plan_split(iter(pairs), SplitConfig(valid=0.5, test=0.5), 0)
    split = Split()
    train = list(route(lambda: iter(pairs), plan, split))
    assert len(train) >= 1

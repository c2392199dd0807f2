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


def test_heldout_sizes_scale_with_the_data():
    from translate_synth.split import heldout_sizes

    cfg = SplitConfig()  # 0.1 each, at least min(8, pairs // 5), at most max_heldout
    got = {n: heldout_sizes(cfg, n) for n in (0, 1, 4, 5, 10, 20, 40, 41, 60, 100, 200, 1000,
                                              100_000)}
    assert got == {0: (0, 0), 1: (0, 0), 4: (0, 0), 5: (1, 1), 10: (2, 2), 20: (4, 4),
                   40: (8, 8), 41: (8, 8), 60: (8, 8), 100: (10, 10), 200: (20, 20),
                   1000: (100, 100), 100_000: (3000, 3000)}
    for n in range(0, 500):  # the floors never take more than 40 %, and train is never empty
        v, t = heldout_sizes(cfg, n)
        assert v + t <= 0.4 * n and (n == 0 or n - v - t >= 1)
    assert heldout_sizes(SplitConfig(valid=0, test=0), 200) == (0, 0)  # none when asked
    assert heldout_sizes(SplitConfig(valid=8, test=3), 200) == (8, 3)  # counts as given
    assert heldout_sizes(SplitConfig(valid=0.5, test=0.5), 10) == (5, 4)  # one stays in train
    assert heldout_sizes(SplitConfig(max_heldout=50), 10_000) == (50, 50)


def test_shipped_configs_do_not_pin_heldout_sizes_and_every_sample_gets_both_splits():
    from pathlib import Path

    from translate_synth.config import find_lang_config, load_config
    from translate_synth.ingest import resolve
    from translate_synth.split import heldout_sizes

    langs = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "lang_configs")
                   .glob("*.yaml"))
    assert len(langs) == 17
    for lang in langs:
        cfg = load_config(find_lang_config(lang))
        assert cfg.split == SplitConfig(), lang
        pairs = sum(len(resolve(f)[1].read_text(encoding="utf-8").splitlines())
                    for f in cfg.data.parallel)
        v, t = heldout_sizes(cfg.split, pairs)
        assert v >= 8 and t >= 8 and pairs - v - t >= 0.6 * pairs, (lang, pairs, v, t)

"""The collapse monitor raises its alarm on degenerate synthetic text, not on real text."""

import random

from translate_synth.collapse import distinct_n, jsd, ks, monitor, mtld
from translate_synth.ingest import builtin_path


def _udhr(lang_col: int):
    rows = builtin_path("udhr.en-pt.tsv").read_text(encoding="utf-8").splitlines()
    return [r.split("\t")[lang_col] for r in rows]


def _web():
    return builtin_path("web.en.txt").read_text(encoding="utf-8").splitlines()


def test_metric_building_blocks():
    assert distinct_n([["a", "b", "a", "b"]], 1) == 0.5
    assert jsd({"a": 1}, {"a": 5}) == 0.0 and jsd({"a": 1}, {"b": 1}) == 1.0
    assert ks([1, 2, 3], [1, 2, 3]) == 0.0 and ks([1, 1], [9, 9]) == 1.0
    assert mtld("the cat sat on the mat and then the cat ran".split()) > \
        mtld(("the cat " * 10).split())


def test_real_text_raises_no_alarm_and_degenerate_text_does():
    web = _web()
    real_train, valid, held_real = web[:400], web[400:460], web[460:860]
    sides = {"source": {"lang": "en", "synthetic": held_real, "real_train": real_train,
                        "valid": valid}}
    ok = monitor(sides, {}, {}, seed=0)
    assert ok["alarms"] == [], ok["alarms"]
    # model collapse: a few frequent sentences over and over, with their rare words gone
    frequent = sorted(real_train, key=len)[:5]
    degenerate = [random.Random(i).choice(frequent) for i in range(400)]
    sides["source"]["synthetic"] = degenerate
    bad = monitor(sides, {}, {}, seed=0)
    fired = {a["metric"] for a in bad["alarms"]}
    assert {"distinct2_ratio", "self_bleu_excess", "valid_coverage_ratio"} <= fired, fired
    a = bad["alarms"][0]
    assert set(a) >= {"side", "metric", "value", "threshold", "direction", "hint"}
    m = bad["sides"]["source"]
    assert m["rare_coverage_ratio"] < ok["sides"]["source"]["rare_coverage_ratio"]
    assert m["valid_oov_rate"] > ok["sides"]["source"]["valid_oov_rate"]


def test_thresholds_are_configurable_and_small_sides_are_not_judged():
    web = _web()
    sides = {"source": {"lang": "en", "synthetic": web[:300], "real_train": web[300:600],
                        "valid": web[600:650]}}
    strict = monitor(sides, {}, {"distinct2_ratio": 5.0}, seed=0)
    assert [a["metric"] for a in strict["alarms"]] == ["distinct2_ratio"]
    assert strict["thresholds"]["distinct2_ratio"]["value"] == 5.0
    off = monitor(sides, {}, {"distinct2_ratio": None}, seed=0)
    assert off["alarms"] == []
    sides["source"]["synthetic"] = web[:5]
    tiny = monitor(sides, {}, {"distinct2_ratio": 5.0}, seed=0)
    assert tiny["alarms"] == [] and "no alarms" in tiny["sides"]["source"]["note"]

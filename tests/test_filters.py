"""Each filter on hand-made rows: what it keeps, what it removes, and why; threshold modes."""

import json

import pytest

from translate_synth.config import build_config
from translate_synth.errors import UserError
from translate_synth.filtering import apply_filters
from translate_synth.filters import REGISTRY, FilterContext, validate_specs

LANGS = {"source": "en", "target": "sw"}


def row(source, target, authentic="target", rid=None, **scores):
    return {"id": rid or f"r-{abs(hash((source, target))) % 10**8}", "origin": "bt",
            "source": source, "target": target, "authentic": authentic,
            "roundtrip": target, "scores": {"rt_bleu": 50.0, "rt_chrf": 60.0, **scores}}


def score(ftype, rows, **params):
    cls = REGISTRY[ftype]
    f = cls(cls.Params.model_validate(params), FilterContext(langs=LANGS))
    return f.score(rows)


def run_filters(tmp_path, rows, specs, context=None):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    funnel, stats = apply_filters(validate_specs(specs), src, dst,
                                  FilterContext(langs=LANGS, **(context or {})))
    return funnel, [json.loads(x) for x in dst.read_text().splitlines()]


def test_length_ratio_and_absolute_length():
    rows = [row("Every person has a right to life.", "Kila mtu ana haki ya kuishi."),
            row("Yes.", "Kila mtu ana haki ya kuishi, uhuru na usalama wa nafsi yake.")]
    ratio = score("length_ratio", rows)
    assert 0.8 < ratio[0] < 1.5 and ratio[1] < 0.1  # "Yes." for a long sentence: far too short
    assert score("length", rows) == [33.0, 4.0]  # characters of the synthetic side
    assert score("length", rows, side="authentic")[1] == float(len(rows[1]["target"]))


def test_copy_flags_untranslated_output_not_a_translation():
    text = "Kila mtu ana haki ya kuishi, uhuru na usalama wa nafsi yake."
    rows = [row(text, text), row("Every person has the right to life.", text)]
    got = score("copy", rows)
    assert got[0] == 1.0 and got[1] < 0.5


def test_repetition_catches_loops_not_normal_sentences():
    rows = [row("the rights of the people and the rights of the state are equal before law",
                "x"),
            row("he said that he said that he said that he said that he said that", "x"),
            row("and and and and and and and and and and", "x")]
    a, b, c = score("repetition", rows)
    assert a < 0.3 and b > 0.5 and c > 0.5  # a legitimately repeated phrase stays under 0.3


def test_script_share_and_unknown_script_is_skipped(capsys):
    rows = [row("Every person has rights.", "Kila mtu ana haki."),
            row("Каждый человек имеет право.", "Kila mtu ana haki.")]
    latin, cyrillic = score("script", rows)
    assert latin == 1.0 and cyrillic == 0.0
    am = [{**row("Every person", "ሁሉም ሰው"), "authentic": "source"}]
    cls = REGISTRY["script"]
    f = cls(cls.Params(), FilterContext(langs={"source": "en", "target": "am"}))
    assert f.score(am) == [1.0]  # Ethiopic letters for Amharic
    capsys.readouterr()
    f = cls(cls.Params(), FilterContext(langs={"source": "en", "target": "xx"},
                                        log_warnings=True))
    assert f.score([{**row("a", "b"), "authentic": "source"}]) == [None]
    assert "] script filter: no known script for 'xx'" in capsys.readouterr().err


def test_langid_confidence_and_unknown_language_is_skipped_with_a_warning(capsys):
    rows = [row("Everyone has the right to life, liberty and security of person.", "x"),
            row("Kila mtu ana haki ya kuishi, uhuru na usalama wa nafsi yake.", "x")]
    en_ok, wrong = score("langid", rows)  # synthetic side = source, expected English
    assert en_ok > 0.9 and wrong < 0.1
    capsys.readouterr()
    cls = REGISTRY["langid"]
    f = cls(cls.Params(), FilterContext(langs={"source": "en", "target": "wo"},
                                        log_warnings=True))
    wo_row = {**row("Everyone has rights.", "Nit ku nekk am na sañ-sañ."), "authentic": "source"}
    assert f.score([wo_row]) == [None]
    assert "] langid filter: py3langid does not know 'wo'" in capsys.readouterr().err


def test_duplicates_exact_and_normalised(tmp_path):
    rows = [row("Hello, world.", "Habari dunia.", rid="a"),
            row("hello world", "habari dunia", rid="b"),
            row("Hello, world.", "Habari dunia.", rid="c")]
    _, out = run_filters(tmp_path, rows, [])
    assert [r["accepted"] for r in out] == [True, False, False]  # normalised by default
    _, out = run_filters(tmp_path, rows, [{"type": "duplicate", "mode": "exact"}])
    assert [r["accepted"] for r in out] == [True, True, False]


def _real_context(tmp_path, pairs):
    """The filter context of real training pairs, built as a run and refilter build it."""
    from translate_synth.finalize import real_pair_keys
    from translate_synth.hashset import HashSet
    from translate_synth.text import norm_key, stable_int

    real = tmp_path / "real_train.jsonl"
    real.write_text("".join(json.dumps({"id": f"real-{i}", "source": s, "target": t,
                                        "origin": "real"}) + "\n"
                            for i, (s, t) in enumerate(pairs)), encoding="utf-8")
    return {"train_keys": HashSet(stable_int(norm_key(s), norm_key(t)) for s, t in pairs),
            **real_pair_keys(real)}


def test_duplicate_checks_the_real_pairs_in_both_modes(tmp_path):
    ctx = lambda: _real_context(tmp_path, [("Hello, world.", "Habari dunia.")])  # noqa: E731
    rows = [{**row("Hello, world.", "Habari dunia.", authentic="source", rid="a"), "origin": "ft"},
            {**row("hello world", "habari dunia", authentic="source", rid="b"), "origin": "ft"},
            {**row("Good day.", "Siku njema.", authentic="source", rid="c"), "origin": "ft"}]
    _, out = run_filters(tmp_path, rows, [], ctx())
    assert [r["accepted"] for r in out] == [False, False, True]  # normalised: a and b
    _, out = run_filters(tmp_path, rows, [{"type": "duplicate", "mode": "exact"}], ctx())
    assert [r["accepted"] for r in out] == [False, True, True]  # exact: the real pair itself
    assert out[0]["rejected_by"] == ["duplicate"] and out[0]["scores"]["duplicate"] == 1.0


def test_real_target_overlap_drops_back_translations_of_real_targets(tmp_path):
    ctx = lambda: _real_context(tmp_path, [("Everyone has rights.", "Kila mtu ana haki.")])  # noqa: E731
    rows = [row("Every person has rights.", "Kila mtu ana haki!", rid="bt-real"),
            row("Another sentence.", "Sentensi nyingine.", rid="bt-new"),
            {**row("All people have rights.", "Kila mtu ana haki.", authentic="source",
                   rid="ft"), "origin": "ft"}]
    funnel, out = run_filters(tmp_path, rows, [], ctx())
    assert [f["name"] for f in funnel][:3] == ["heldout_overlap", "duplicate",
                                               "real_target_overlap"]
    step = funnel[2]
    assert step["removed"] == 1 and step["direction"] == "lower"
    assert [r["scores"]["real_target_overlap"] for r in out] == [1.0, 0.0, 0.0]
    assert [r["rejected_by"] for r in out] == [["real_target_overlap"], [], []]
    # kept when asked, and still scored
    funnel, out = run_filters(tmp_path, rows, [{"type": "real_target_overlap", "keep": True}],
                              ctx())
    assert out[0]["accepted"], out[0]["rejected_by"]
    assert out[0]["scores"]["real_target_overlap"] == 1.0
    assert next(f for f in funnel if f["name"] == "real_target_overlap")["removed"] == 0


def test_heldout_overlap_is_always_on(tmp_path):
    rows = [row("Kept sentence here.", "Sentensi nzuri."), row("Held out.", "Imeshikiliwa.")]
    from translate_synth.text import norm_key
    funnel, out = run_filters(tmp_path, rows, [], {"heldout_keys": {norm_key("Held out.")}})
    assert funnel[0]["name"] == "heldout_overlap" and funnel[0]["removed"] == 1
    assert out[1]["rejected_by"] == ["heldout_overlap"]


def test_stored_round_trip_scores_with_min(tmp_path):
    rows = [row(f"a b {c}", f"a b {c}", rid=str(i), rt_chrf=float(c)) for i, c in
            enumerate([10, 40, 80])]
    funnel, out = run_filters(tmp_path, rows, [{"type": "rt_chrf", "min": 30}])
    assert [r["accepted"] for r in out] == [False, True, True]
    step = [f for f in funnel if f["name"] == "rt_chrf"][0]
    assert (step["seen"], step["kept"], step["removed"]) == (3, 2, 1)
    assert out[0]["rejected_by"] == ["rt_chrf"]


def test_keep_top_is_relative_to_the_rows_reaching_the_filter(tmp_path):
    rows = [row(f"s{i} text", f"t{i} text", rid=str(i), rt_chrf=float(i * 10), rt_bleu=float(i))
            for i in range(10)]
    specs = [{"type": "rt_bleu", "min": 2}, {"type": "rt_chrf", "keep_top": 0.5}]
    funnel, out = run_filters(tmp_path, rows, specs)
    kept = [r["scores"]["rt_chrf"] for r in out if r["accepted"]]
    assert kept == [60.0, 70.0, 80.0, 90.0]  # best half of the 8 rows that reached rt_chrf
    step = next(f for f in funnel if f["name"] == "rt_chrf")
    assert step["name"] == "rt_chrf" and step["thresholds"]["resolved"]["min"] == 60.0
    # lower-is-better filters keep the lowest scores
    import numpy as np
    cls = REGISTRY["repetition"]
    f = cls(cls.Params(keep_top=0.3))
    assert f.bounds(np.array([0.5, 0.1, 0.0, 0.9, 0.2, 0.3, 0.05, 0.7, 0.4, 0.6])) == (None, 0.1)


def test_real_percentile_takes_the_cut_from_real_pairs(tmp_path):
    rows = [row(f"x y {v}", f"x y {v}", rid=str(i), rt_chrf=float(v))
            for i, v in enumerate([20, 45, 70])]
    real = [row("r", "r", rt_chrf=float(v)) for v in range(40, 90)]
    funnel, out = run_filters(tmp_path, rows, [{"type": "rt_chrf", "real_percentile": 10}],
                              {"calibration": {"real_rows": real}})
    assert [r["accepted"] for r in out] == [False, True, True]
    step = next(f for f in funnel if f["name"] == "rt_chrf")
    assert step["thresholds"]["resolved"]["min"] == pytest.approx(44.9)
    with pytest.raises(UserError, match="real parallel data"):
        run_filters(tmp_path, rows, [{"type": "rt_chrf", "real_percentile": 10}])


def test_quality_is_always_scored_and_ranks(tmp_path):
    rows = [row("Every person has rights.", "Kila mtu ana haki.", rid=str(i), rt_chrf=float(c),
                rt_bleu=float(c) / 2) for i, c in enumerate([20, 50, 90])]
    _, out = run_filters(tmp_path, rows, [])
    q = [r["scores"]["quality"] for r in out]
    assert q[0] < q[1] < q[2]


@pytest.mark.parametrize("spec,match", [
    ({"type": "rt_chrf", "keep_top": 1.5}, "keep_top"),
    ({"type": "rt_chrf", "min": 10, "keep_top": 0.5}, "one kind of threshold"),
    ({"type": "langid", "side": "left"}, "side"),
    ({"type": "rt_chrfs", "min": 1}, "did you mean 'rt_chrf'"),
    ({"type": "duplicate", "min": 1}, "unknown option"),
])
def test_bad_filter_specs_are_one_line_errors(spec, match):
    with pytest.raises(UserError, match=match):
        build_config({"lang": "sw", "filters": [spec]})


def test_tokens_split_by_script_not_by_word_count():
    from translate_synth.text import tokens

    assert tokens("agora portanto,") == ["agora", "portanto"]  # two words, not 14 letters
    assert tokens("Supercalifragilistic") == ["supercalifragilistic"]
    assert tokens("我们都是人类") == list("我们都是人类")
    assert tokens("Kila mtu ana haki.") == ["kila", "mtu", "ana", "haki"]

"""Importance-aware selection (novelty, select) and the rare-word cost of each filter."""

import json

import pytest

from translate_synth.filtering import apply_filters
from translate_synth.filters import FilterContext, validate_specs
from translate_synth.novelty import RareTypes, novel_counts, rare_types


def _row(i, source, target, rt_chrf):
    return {"id": f"bt-{i}", "origin": "bt", "source": source, "target": target,
            "authentic": "target", "roundtrip": target, "scores": {"rt_chrf": rt_chrf,
                                                                    "rt_bleu": rt_chrf}}


def test_novel_types_are_those_no_real_pair_and_no_other_row_has():
    got = novel_counts(["a casa grande", "a casa verde", "o gato"], ["o cão e a casa"],
                       sets=True)
    assert got == [{"grande"}, {"verde"}, {"gato"}]
    got = novel_counts(["a casa grande", "uma grande festa"], ["a casa"])
    assert got == [0, 2]  # "grande" is in two rows: not novel; "uma", "festa" are


def test_select_keeps_a_row_that_alone_carries_rare_words_over_a_slightly_better_one(tmp_path):
    rows = [_row(0, "the house", "a casa", 80.0), _row(1, "the home", "o lar", 79.0),
            _row(2, "a strange parable", "uma parábola estranha inaudita", 76.0),
            _row(3, "the houses", "as casas", 78.0)]
    src, dst = tmp_path / "c.jsonl", tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    real = [("the house is big", "a casa é grande"), ("the home", "o lar"), ("houses", "as casas")]
    ctx = FilterContext(langs={"source": "en", "target": "pt"})

    def kept(specs):
        apply_filters(validate_specs(specs), src, dst, ctx, real_pairs=lambda: iter(real))
        return [r["id"] for r in map(json.loads, dst.read_text().splitlines()) if r["accepted"]]

    assert kept([{"type": "select", "keep_top": 0.75}]) == ["bt-0", "bt-1", "bt-3"]
    assert kept([{"type": "select", "keep_top": 0.75, "novelty_weight": 2.0}]) == \
        ["bt-0", "bt-1", "bt-2"]
    decided = [json.loads(x) for x in dst.read_text().splitlines()]
    assert decided[2]["scores"]["select"] == 76.0 + 2.0 * 4  # four types only it carries


def test_each_funnel_step_reports_the_rare_types_it_keeps(tmp_path):
    rows = [_row(0, "the house", "a casa", 80.0), _row(1, "a rare word", "palavra rara", 10.0),
            _row(2, "the home", "o lar", 90.0)]
    src, dst = tmp_path / "c.jsonl", tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    real = [("a house", "uma casa"), ("rare word", "palavra rara"), ("a house", "uma casa")]
    rare = rare_types(real, k=1)
    assert rare["target"] == {"palavra", "rara"} and "house" not in rare["source"]
    funnel, _ = apply_filters(validate_specs([{"type": "rt_chrf", "min": 30}]), src, dst,
                              FilterContext(langs={"source": "en", "target": "pt"}),
                              rare_types=rare)
    step = next(f for f in funnel if f["name"] == "rt_chrf")
    assert step["removed"] == 1
    assert step["rare_types"]["target"] == {"types": 2, "before": 1.0, "after": 0.0}
    first = funnel[0]["rare_types"]["target"]
    assert first["before"] == first["after"] == 1.0


def test_rare_types_depth_bookkeeping():
    rt = RareTypes({"target": {"x", "y"}})
    rt.add({"target": "x y"}, 1)
    rt.add({"target": "x"}, 3)
    assert rt.shares(0)["target"] == {"types": 2, "before": 1.0, "after": 1.0}
    assert rt.shares(1)["target"] == {"types": 2, "before": 1.0, "after": 0.5}
    assert rt.shares(3)["target"] == {"types": 2, "before": 0.5, "after": 0.0}


def test_a_run_that_keeps_almost_nothing_says_so_loudly(tmp_path):
    """refilter a finished demo-sized run with a threshold nothing passes: stderr, stats."""
    from click.testing import CliRunner

    from translate_synth.cli import main

    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "30", "--out",
                                    str(tmp_path), "--no-report",
                                    "--set", "filters.rt_chrf.min=99.5"])
    assert res.exit_code == 0, res.output
    st = json.loads((tmp_path / "pt" / "stats.json").read_text())
    kept = st["filters"][-1]["kept"]
    assert kept < 0.1 * st["filters"][0]["seen"]
    for f in st["filters"]:  # every step, per origin, adds up
        assert sum(v["kept"] for v in f["by_origin"].values()) == f["kept"]
        assert sum(v["seen"] for v in f["by_origin"].values()) == f["seen"]
    assert set(st["filters"][0]["by_origin"]) == {"bt", "ft", "paraphrase"}
    kept_w = [w for w in st["warnings"] if "synthetic candidates kept" in w
              or "no synthetic row" in w]
    assert len(kept_w) == 1 and "rt_chrf" in kept_w[0]
    assert "WARNING:" in res.output and ("only" in res.output or "no synthetic row" in res.output)
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "30", "--out",
                                    str(tmp_path / "ok"), "--no-report"])
    assert res.exit_code == 0 and "WARNING:" not in res.output


def _origin_row(i, origin, score, target=None):
    auth = "source" if origin == "ft" else "target"
    return {"id": f"{origin}-{i}", "origin": origin, "source": f"source {origin} {i}",
            "target": target or f"alvo {origin} {i}", "authentic": auth,
            "roundtrip": "x", "scores": {"rt_chrf": score, "rt_bleu": score}}


def _decide(tmp_path, rows, specs, calibration=None, real_pairs=None):
    src, dst = tmp_path / "c.jsonl", tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    funnel, _ = apply_filters(validate_specs(specs), src, dst,
                              FilterContext(langs={"source": "en", "target": "pt"},
                                            calibration=calibration), real_pairs=real_pairs)
    return funnel, [json.loads(x) for x in dst.read_text().splitlines()]


def test_keep_top_resolves_within_each_origin_unless_pool_all(tmp_path):
    # back-translations score 60-69, paraphrases 80-89: one pooled cut keeps only paraphrases
    rows = [_origin_row(i, "bt", 60.0 + i) for i in range(10)] + \
        [_origin_row(i, "paraphrase", 80.0 + i) for i in range(10)]
    funnel, out = _decide(tmp_path, rows, [{"type": "rt_chrf", "keep_top": 0.5}])
    kept = {o: sorted(r["scores"]["rt_chrf"] for r in out if r["accepted"] and r["origin"] == o)
            for o in ("bt", "paraphrase")}
    assert kept == {"bt": [65.0, 66.0, 67.0, 68.0, 69.0],
                    "paraphrase": [85.0, 86.0, 87.0, 88.0, 89.0]}
    step = next(f for f in funnel if f["name"] == "rt_chrf")
    assert step["by_origin"] == {"bt": {"seen": 10, "kept": 5, "removed": 5},
                                 "paraphrase": {"seen": 10, "kept": 5, "removed": 5}}
    assert step["thresholds"]["resolved_by_origin"] == {"bt": {"min": 65.0, "max": None},
                                                        "paraphrase": {"min": 85.0, "max": None}}
    # every step counts per origin, absolute ones too
    assert all(set(f["by_origin"]) == {"bt", "paraphrase"} for f in funnel)
    _, out = _decide(tmp_path, rows, [{"type": "rt_chrf", "keep_top": 0.5, "pool": "all"}])
    assert {r["origin"] for r in out if r["accepted"]} == {"paraphrase"}


def test_a_keep_top_per_origin_cuts_only_the_origins_it_names(tmp_path):
    rows = [_origin_row(i, o, 50.0 + i) for o in ("bt", "ft", "paraphrase") for i in range(10)]
    funnel, out = _decide(tmp_path, rows, [{"type": "rt_chrf",
                                            "keep_top": {"bt": 0.8, "paraphrase": 0.6}}])
    step = next(f for f in funnel if f["name"] == "rt_chrf")
    assert {o: v["kept"] for o, v in step["by_origin"].items()} == \
        {"bt": 8, "ft": 10, "paraphrase": 6}
    from translate_synth.report.wording import origin_counts, threshold_words

    assert threshold_words(step).startswith("keep best bt 80 %, paraphrase 60 % per origin")
    assert origin_counts(step) == "bt 8/10, ft 10/10, paraphrase 6/10"


@pytest.mark.parametrize("keep_top,match", [
    ({"bt": 0.8, "mt": 0.5}, "unknown origin 'mt'"),
    ({"bt": 1.5}, r"share \(bt\) must be > 0 and <= 1"),
    ({}, "at least one origin"),
])
def test_bad_per_origin_keep_top_is_a_one_line_error(keep_top, match):
    from translate_synth.config import build_config
    from translate_synth.errors import UserError

    with pytest.raises(UserError, match=match):
        build_config({"lang": "pt", "filters": [{"type": "select", "keep_top": keep_top}]})
    with pytest.raises(UserError, match="needs pool: origin"):
        build_config({"lang": "pt", "filters": [{"type": "select", "pool": "all",
                                                 "keep_top": {"bt": 0.5}}]})


def test_novelty_is_counted_within_an_origin(tmp_path):
    # "parábola" is in a bt row and an ft row: novel for each (origins are selected apart);
    # "figueira" is in two bt rows: common there
    rows = [_origin_row(0, "bt", 70.0, "a parábola da figueira"),
            _origin_row(1, "bt", 70.0, "a figueira seca"),
            _origin_row(2, "ft", 70.0, "uma parábola")]
    real = [("the", "a uma")]
    _, out = _decide(tmp_path, rows, [{"type": "novelty"}],
                     real_pairs=lambda: iter(real))
    got = {r["id"]: r["scores"]["novelty"] for r in out}
    assert got == {"bt-0": 2.0, "bt-1": 1.0, "ft-2": 1.0}  # parábola+da / seca / parábola


def test_real_percentile_compares_each_origin_with_real_rows_of_its_shape(tmp_path):
    """bt rows are judged against real pairs built as back-translations (authentic target),
    ft rows against real pairs built as forward translations (authentic source)."""
    rows = [_origin_row(i, "bt", float(v)) for i, v in enumerate([45, 55, 75])] + \
        [_origin_row(i, "ft", float(v)) for i, v in enumerate([25, 35, 55])]
    real = [{"source": "s", "target": "t", "authentic": "target", "origin": "real",
             "roundtrip": "t", "scores": {"rt_chrf": float(v)}} for v in range(50, 100)] + \
        [{"source": "s", "target": "t", "authentic": "source", "origin": "real",
          "roundtrip": "s", "scores": {"rt_chrf": float(v)}} for v in range(30, 80)]
    funnel, out = _decide(tmp_path, rows, [{"type": "rt_chrf", "real_percentile": 10}],
                          calibration={"real_rows": real})
    assert {r["id"]: r["accepted"] for r in out} == {
        "bt-0": False, "bt-1": True, "bt-2": True, "ft-0": False, "ft-1": True, "ft-2": True}
    res = next(f for f in funnel if f["name"] == "rt_chrf")["thresholds"]["resolved_by_origin"]
    assert res["bt"]["min"] == pytest.approx(54.9) and res["ft"]["min"] == pytest.approx(34.9)
    # a calibration.json written before real rows had two shapes (refilter of an older run):
    # every origin is compared with the real rows it has
    old = [{k: v for k, v in r.items() if k != "authentic"} for r in real[:50]]
    _, out = _decide(tmp_path, rows, [{"type": "rt_chrf", "real_percentile": 10}],
                     calibration={"real_rows": old})
    assert [r["accepted"] for r in out if r["origin"] == "ft"] == [False, False, True]


def test_a_real_row_and_a_synthetic_row_with_identical_features_get_identical_quality():
    """real_percentile on quality compares like with like: the real rows are scored with the
    weights of the origin they are compared with, not with rt_chrf's identity weights."""
    import numpy as np

    from translate_synth.filtering import _real_values
    from translate_synth.filters.quality_filter import Quality

    w = {"method": "prior", "intercept": 40.0,
         "features": {"rt_chrf": {"mean": 60.0, "std": 10.0, "weight": 3.0},
                      "fluency": {"mean": -2.0, "std": 0.2, "weight": 2.0}}}
    cal = {"origins": {"bt": {"weights": w}}}
    syn = {"id": "bt-1", "origin": "bt", "source": "the fig tree", "target": "a figueira",
           "authentic": "target", "roundtrip": "a figueira",
           "scores": {"rt_chrf": 72.0, "rt_bleu": 40.0, "fluency_synthetic": -1.8}}
    real = {**syn, "id": "real-1", "origin": "real"}
    f = Quality(Quality.Params(), FilterContext(calibration=cal, langs={"source": "en",
                                                                         "target": "pt"}))
    q_syn = f.score([syn])[0]
    q_real = _real_values(f, [real], "bt", {"target"})
    assert q_syn == 40.0 + 3.0 * 1.2 + 2.0 * 1.0
    assert np.array_equal(q_real, np.array([q_syn]))

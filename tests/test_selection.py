"""Importance-aware selection (novelty, select) and the rare-word cost of each filter."""

import json

from translate_synth.filtering import apply_filters
from translate_synth.filters import validate_specs
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
    ctx = {"langs": {"source": "en", "target": "pt"}, "heldout_keys": set(),
           "real_pairs": lambda: iter(real)}

    def kept(specs):
        apply_filters(validate_specs(specs), src, dst, dict(ctx))
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
                              {"langs": {"source": "en", "target": "pt"}, "heldout_keys": set(),
                               "rare_types": rare})
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
    assert len(st["warnings"]) == 1 and "rt_chrf" in st["warnings"][0]
    assert "WARNING:" in res.output and ("only" in res.output or "no synthetic row" in res.output)
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "30", "--out",
                                    str(tmp_path / "ok"), "--no-report"])
    assert res.exit_code == 0 and "WARNING:" not in res.output

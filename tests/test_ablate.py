"""`translate-synth ablate`: the conditions' data, the paired statistics, and a whole ablation on
tiny from-scratch models (a few seconds of training), killed after its first model and resumed
without retraining it."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from test_train import TINY, _write, make_run
from translate_synth.ablate import condition_dir
from translate_synth.ablate_stats import curve_state, paired_difference, sentence_stats, verdict
from translate_synth.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py

SETS = [a for s in TINY + ["train.eval_max_rows=8", "train.eval_every=2"] for a in ("--set", s)]


def _ablate(*args):
    return CliRunner().invoke(main, ["ablate", *map(str, args)])


# ---------------------------------------------------------------- the data of each condition

def _with_candidates(run):
    """Candidates with stored decisions: accepted, rejected by a quality filter only, by a
    safety filter (and a quality one), by a renamed safety filter."""
    rows = []
    for i in range(40):
        kind = ["ok", "quality", "safety", "renamed"][i % 4]
        rej = {"ok": [], "quality": ["rt_chrf", "select"], "safety": ["duplicate", "rt_chrf"],
               "renamed": ["no_test_overlap"]}[kind]
        rows.append({"id": f"c{i}-{kind}", "origin": "bt", "source": f"chanzo {i}",
                     "target": f"target {i}", "authentic": "target",
                     "scores": {"quality": i / 40}, "accepted": not rej, "rejected_by": rej})
    _write(run / "candidates.jsonl", rows)
    man = json.loads((run / "manifest.json").read_text())
    man["config"]["filters"] = [{"type": "heldout_overlap", "name": "no_test_overlap"},
                                *man["config"]["filters"]]
    (run / "manifest.json").write_text(json.dumps(man))
    return man


def test_each_condition_trains_on_its_own_rows(tmp_path):
    run = make_run(tmp_path / "run", n_real=20, n_syn=20, n_valid=5, n_vsyn=5)
    man = _with_candidates(run)
    out = tmp_path / "abl"
    assert condition_dir(run, man, "hybrid", out) == run
    d = condition_dir(run, man, "unfiltered", out)
    flat = [json.loads(x) for x in (d / "train.jsonl").read_text().splitlines()]
    held = [json.loads(x)["id"] for x in (d / "valid_synthetic.jsonl").read_text().splitlines()]
    syn = {r["id"] for r in flat if r["origin"] != "real"}
    # accepted and quality-rejected rows pass; a safety filter (by type or by its config name)
    # keeps a row out whatever else rejected it
    assert syn | set(held) == {f"c{i}-{k}" for i, k in
                               ((i, ["ok", "quality", "safety", "renamed"][i % 4])
                                for i in range(40)) if k in ("ok", "quality")}
    assert not syn & set(held) and held
    assert sum(r["origin"] == "real" for r in flat) == 20
    mixed = [json.loads(x) for x in (d / "train.mixed.jsonl").read_text().splitlines()]
    assert {r["id"] for r in mixed if r["origin"] != "real"} == syn  # the run's curriculum
    assert (d / "train.real.jsonl").is_file()
    for f in ("test.jsonl", "valid.jsonl"):  # the same real held-out rows
        assert [json.loads(x) for x in (d / f).read_text().splitlines()] == \
            [json.loads(x) for x in (run / f).read_text().splitlines()]
    for cond, want in (("real", "real"), ("synthetic", "bt")):
        d = condition_dir(run, man, cond, out)
        rows = [json.loads(x) for x in (d / f"train.{cond}.jsonl").read_text().splitlines()]
        assert len(rows) == 20 and {r["origin"] for r in rows} == {want}
        stages = json.loads((d / "manifest.json").read_text())["config"]["curriculum"]["stages"]
        assert [s["name"] for s in stages] == [cond]


# ---------------------------------------------------------------- statistics and words

def test_per_seed_p_is_sacrebleus_and_the_interval_spans_the_truth():
    from sacrebleu.metrics import CHRF

    from translate_synth.metrics import paired_significance

    rng = np.random.default_rng(0)
    words = "a b c d e f g h i j".split()
    refs = [" ".join(rng.choice(words, 8)) for _ in range(60)]
    good = [r if i % 3 else " ".join(rng.choice(words, 8)) for i, r in enumerate(refs)]
    bad = [r if i % 2 else " ".join(rng.choice(words, 8)) for i, r in enumerate(refs)]
    m = CHRF()
    got = paired_difference(m, [sentence_stats(m, good, refs)], [sentence_stats(m, bad, refs)])
    args = {"bleu": {"tokenize": "13a", "lowercase": False},
            "chrf": {"word_order": 0, "lowercase": False},
            "chrf++": {"word_order": 2, "lowercase": False}}
    sb = paired_significance(good, bad, refs, args)["metrics"]["chrf"]
    assert got["difference"] == pytest.approx(sb["difference"], abs=1e-3)
    assert got["p_value"] == pytest.approx(sb["p_value"], abs=1e-4)
    lo, hi = got["ci95"]
    assert 0 < lo < got["difference"] < hi
    words_ = verdict("hybrid-real", {"chrf": got}, {"steps": 700, "seeds": 1,
                                                    "curves": {"a": "flat"}})
    assert words_.startswith("Does the synthetic data help? At 700 steps (1 seed; the "
                             "real-valid curves had flattened), the synthetic data adds +")
    # two seeds: the same pair twice gives the same mean, a second pair widens the interval
    two = paired_difference(m, [sentence_stats(m, good, refs)] * 2,
                            [sentence_stats(m, bad, refs)] * 2)
    assert two["difference"] == got["difference"] and len(two["per_seed"]) == 2
    mixed = paired_difference(m, [sentence_stats(m, good, refs), sentence_stats(m, bad, refs)],
                              [sentence_stats(m, bad, refs), sentence_stats(m, bad, refs)])
    assert mixed["difference"] == pytest.approx(got["difference"] / 2, abs=1e-3)
    assert mixed["ci95"][0] < 0.5 * lo  # the seed that gains nothing pulls the interval down
    same = paired_difference(m, [sentence_stats(m, bad, refs)], [sentence_stats(m, bad, refs)])
    assert same["ci95"] == [0.0, 0.0] and same["p_value"] == 1.0
    assert "Can't tell at this size: +0.0 chrF [+0.0, +0.0], p = 1.00" in verdict(
        "hybrid-real", {"chrf": same}, {"steps": 10, "seeds": 1, "curves": {"a": None}})


def test_curve_states():
    assert curve_state([[2, 1.0], [4, 9.0], [6, 9.2], [8, 9.3]], 8, "max_steps") == \
        ("flat", 0.3)
    assert curve_state([[2, 1.0], [4, 5.0], [6, 8.0], [8, 12.0]], 8, "max_steps")[0] == "rising"
    assert curve_state([[2, 0.3], [4, 0.3], [6, 0.4]], 6, "max_steps")[0] == "never rose"
    assert curve_state([[2, 0.3], [4, 5.0]], 4, "max_steps") == (None, None)


# ---------------------------------------------------------------- a whole ablation

def test_ablate_writes_every_file_and_a_rerun_retrains_nothing_finished(tmp_path, monkeypatch):
    run = make_run(tmp_path / "run", n_real=40, n_syn=40, n_valid=8, n_vsyn=8)
    out = tmp_path / "abl"
    args = [run, "--model", "scratch", "--out", out, "--conditions", "real,hybrid",
            "--seeds", 1, "--max-steps", 6, *SETS]
    # killed (SIGKILL) right after its first model was trained and evaluated
    env = {**os.environ, "TRANSLATE_SYNTH_FAULT": "ablate:done:real-seed0",
           "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-m", "translate_synth", "ablate", *map(str, args),
                        "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == -9, p.stderr[-2000:]
    real = out / "models" / "real-seed0" / "train.json"
    before = real.read_bytes(), real.stat().st_mtime_ns
    assert not (out / "ablate.json").exists()
    res = _ablate(*args)
    assert res.exit_code == 0, res.output
    assert "real-seed0: trained and evaluated earlier: kept" in res.output
    assert "hybrid-seed0: training (2 of 2)" in res.output and "min left" not in res.output
    assert (real.read_bytes(), real.stat().st_mtime_ns) == before
    for f in ("ablate.json", "ablate.md", "ablate.png"):
        assert (out / f).is_file(), f
    ab = json.loads((out / "ablate.json").read_text())
    assert [(m["condition"], m["seed"], m["steps"]) for m in ab["models"]] == \
        [("real", 0, 6), ("hybrid", 0, 6)]
    # one vocabulary: both models' sentencepiece model is the shared one
    spm = (out / "vocab" / "spm.model").read_bytes()
    assert all((out / "models" / n / "source.spm").read_bytes() == spm
               for n in ("real-seed0", "hybrid-seed0"))
    c = ab["comparisons"]["hybrid-real"]["test"]["chrf"]
    assert c["ci95"][0] <= c["difference"] <= c["ci95"][1] and 0 < c["p_value"] <= 1
    assert c["rows"] == 8 and len(c["per_seed"]) == 1
    b = ab["budget"]
    assert b["steps"] == 6 and b["max_tokens"] == 600 and b["seeds"] == 1
    assert set(b["target_tokens"]) == {"real", "hybrid"} and b["eval_every"] == 2  # --set wins
    assert set(b["curves"]) == {"real-seed0", "hybrid-seed0"}
    v = ab["verdicts"]
    assert "at 6 steps (1 seed;" in v["hybrid-real"].lower() and " chrF [" in v["hybrid-real"]
    assert v["hybrid-unfiltered"].startswith("Do the quality filters help? Not asked")
    md = (out / "ablate.md").read_text()
    assert v["hybrid-real"] in md and "| real | 0 | 6 |" in md
    for m in ab["models"]:
        sc = m["scores"]["test"]
        assert set(sc) >= {"bleu", "chrf", "rare_words"} and sc["rows"] == 8
    assert v["hybrid-real"] in res.output

    # a second rerun trains nothing at all
    import translate_synth.train.trainer as trainer

    monkeypatch.setattr(trainer, "train_model", lambda *a, **k: pytest.fail("retrained"))
    res = _ablate(*args)
    assert res.exit_code == 0 and res.output.count("earlier: kept") == 2, res.output
    # other settings in the same --out: refused in one line
    res = _ablate(*[a if a != 6 else 7 for a in args])
    assert res.exit_code == 2 and "holds an ablation with other sets" in res.output

    # report takes the ablation directory as it takes evaluation directories
    res = CliRunner().invoke(main, ["report", str(out), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    rep_md = (tmp_path / "rep" / "report.md").read_text()
    assert "Ablation: does the synthetic data help?" in rep_md and v["hybrid-real"] in rep_md
    assert "data:image/png;base64" in (tmp_path / "rep" / "report.html").read_text()


def test_bad_input_is_one_line(tmp_path):
    run = make_run(tmp_path / "run", n_real=20, n_syn=20, n_valid=5, n_vsyn=5)
    for args, match in [
        (["--conditions", "real,bogus"], "--conditions real,bogus"),
        (["--seeds", "0"], "--seeds 0"),
        (["--conditions", "unfiltered"], "candidates.jsonl: missing"),
        (["--set", "filters.x=1"], "train takes train.* settings only"),
    ]:
        res = _ablate(run, "--model", "scratch", "--out", tmp_path / "o", *args)
        assert res.exit_code == 2, (args, res.output)
        err = [x for x in res.output.splitlines() if x.startswith("error:")]
        assert len(err) == 1 and match in err[0], (args, res.output)
    assert not (tmp_path / "o").exists()  # refused before anything was written
    res = _ablate(run, "--model", "scratch", "--out", run / "abl")
    assert res.exit_code == 2 and "inside the run directory" in res.output

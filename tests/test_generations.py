"""`translate-synth generations`: two rounds end to end with tiny models, resume by round.

Round 0 synthesises with a tiny random NLLB (tests/tiny_models.py); each round trains tiny
from-scratch models for a few steps; round 1 synthesises with round 0's models. The numbers are
junk by design; the test checks the loop, the files and the bookkeeping.
"""

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from translate_synth import generations as gen_mod
from translate_synth.cli import main

TRAIN = ["train.scratch.d_model=32", "train.scratch.layers=1", "train.scratch.heads=2",
         "train.scratch.ffn_dim=64", "train.max_tokens=600", "train.eval_max_new_tokens=12",
         "train.eval_max_rows=10", "train.lr=0.01", "train.warmup_steps=2", "train.patience=0",
         "train.max_steps=4", "train.eval_every=4"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py


def _config(tmp_path: Path, tiny_nllb, sw_corpus) -> Path:
    cfg = {"lang": "sw", "seed": 3, "model": {"backend": "transformers", "id": str(tiny_nllb)},
           "data": {k: [str(v)] for k, v in sw_corpus.items()},
           "synthesis": {"decoding": {"beam_size": 1, "max_new_tokens": 12},
                         "paraphrase": {"enabled": False}},
           "quality": {"calibrate": False, "logprob": False},
           "filters": [{"type": "length_ratio", "min": 0.02, "max": 50},
                       {"type": "rt_chrf", "min": 0.0}],
           "split": {"valid": 5, "test": 5}, "curriculum": {"valid_synthetic": 0.1}}
    p = tmp_path / "sw.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def _gen(cfg: Path, out: Path, rounds: int, mix: str = "synthetic", *extra):
    args = ["generations", "--config", str(cfg), "--out", str(out), "--rounds", str(rounds),
            "--mix", mix, "--model", "scratch", "--quiet", "--cache-dir", str(out / "cache")]
    for s in TRAIN:
        args += ["--set", s]
    return CliRunner().invoke(main, args + list(extra))


def test_two_rounds_end_to_end_then_resume_by_round(tmp_path, tiny_nllb, sw_corpus, monkeypatch):
    cfg = _config(tmp_path, tiny_nllb, sw_corpus)
    out = tmp_path / "exp"
    res = _gen(cfg, out, 1)
    assert res.exit_code == 0, res.output
    r0 = json.loads((out / "gen/round-0/round.json").read_text())
    stamp0 = (out / "gen/round-0/round.json").stat().st_mtime_ns

    # round 0 is finished: adding a round redoes nothing of it
    calls = []
    real_train = gen_mod._train

    def counting(run_dir, *a, **kw):
        calls.append(Path(run_dir))
        return real_train(run_dir, *a, **kw)

    monkeypatch.setattr(gen_mod, "_train", counting)
    res = _gen(cfg, out, 2)
    assert res.exit_code == 0, res.output
    assert calls == [out / "gen/round-1/sw"] * 2  # forward and reverse of round 1 only
    assert (out / "gen/round-0/round.json").stat().st_mtime_ns == stamp0

    g = out / "gen"
    r1 = json.loads((g / "round-1/round.json").read_text())
    # round 1 synthesised with round 0's trained models
    man1 = json.loads((g / "round-1/sw/manifest.json").read_text())
    ids = man1["config"]["model"]["ids"]
    assert ids == {"en-sw": r0["models"]["forward"]["dir"], "sw-en": r0["models"]["reverse"]["dir"]}
    assert man1["config"]["model"]["backend"] == "transformers"
    # synthetic mix: round 0 trains on the configured curriculum, round 1 on synthetic rows only
    assert r0["curriculum"] == ["mixed", "real"] and r1["curriculum"] == ["synthetic"]
    stage = [json.loads(x) for x in
             (g / "round-1/sw/train.synthetic.jsonl").read_text().splitlines()]
    assert stage and all(r["origin"] != "real" for r in stage)
    t1 = json.loads((g / "round-1/model-fwd/train.json").read_text())
    assert [s["name"] for s in t1["stages"]] == ["synthetic"]
    rev = json.loads((g / "round-1/model-rev/train.json").read_text())
    assert rev["direction"] == "sw-en" and t1["direction"] == "en-sw"
    # held-out sets fixed: round 1's valid/test are round 0's, byte for byte
    for name in ("valid", "test"):
        assert (g / f"round-0/sw/{name}.jsonl").read_bytes() == \
            (g / f"round-1/sw/{name}.jsonl").read_bytes()
    # calibration pairs: set aside in round 0 (20 %, at least min(50, a quarter)), the same in
    # every round, in no round's training files
    cal = [json.loads(x) for x in (g / "round-0/sw/calibration_pairs.jsonl").read_text()
           .splitlines()]
    st0 = json.loads((g / "round-0/sw/stats.json").read_text())["real"]
    pairs0 = st0["train"] + len(cal) + st0["train_dropped_calibration_overlap"]
    assert len(cal) == st0["calibration"] == max(round(0.2 * pairs0), pairs0 // 4) >= 5
    cal_pairs = {(r["source"], r["target"]) for r in cal}
    for k in (0, 1):
        assert (g / f"round-{k}/sw/calibration_pairs.jsonl").read_bytes() == \
            (g / "round-0/sw/calibration_pairs.jsonl").read_bytes()
        files = sorted((g / f"round-{k}/sw").glob("train*.jsonl"))
        assert len(files) >= 2
        for f in files:
            rows = [json.loads(x) for x in f.read_text().splitlines()]
            assert not {(r["source"].removeprefix("<BT> "), r["target"]) for r in rows} & \
                cal_pairs, f
            # nor any of their sentences (held out like valid/test)
            for i, side in enumerate(("source", "target")):
                assert not {p[i] for p in cal_pairs} & {r[side] for r in rows}, (f, side)
    # per-round files and the report
    for k in (0, 1):
        assert (g / f"round-{k}/sw/collapse.json").is_file()
        ev = json.loads((g / f"round-{k}/eval/eval.json").read_text())
        assert ev["directions"]["en-sw"]["sets"]["test"]["rows"] == 5
    rep = json.loads((g / "generations.json").read_text())
    assert [r["round"] for r in rep["table"]] == [0, 1]
    for r, rnd in zip(rep["table"], (r0, r1)):
        ev = json.loads((g / f"round-{r['round']}/eval/eval.json").read_text())
        assert r["real_test_chrf"] == ev["directions"]["en-sw"]["sets"]["test"]["scores"]["chrf"]
        # the tiny random model writes one junk string for every input: no synthetic row has
        # sides of its own, so valid_synthetic.jsonl is empty and nothing is scored on it
        vs = ev["directions"]["en-sw"]["sets"].get("valid_synthetic")
        assert r["synthetic_valid_chrf"] == (vs["scores"]["chrf"] if vs else None)
        col = json.loads((g / f"round-{r['round']}/sw/collapse.json").read_text())
        assert r["target_distinct2"] == col["sides"]["target"]["synthetic"]["distinct2"]
        assert len(r["alarms"]) == len(col["alarms"])
    md = (g / "generations.md").read_text()
    assert "| 1 | round-0 |" in md and "## Alarms by round" in md
    assert (g / "generations.png").read_bytes()[:4] == b"\x89PNG"

    # everything finished: nothing is redone at all
    def boom(*a, **kw):
        raise AssertionError("redone")

    monkeypatch.setattr(gen_mod, "_train", boom)
    monkeypatch.setattr("translate_synth.executors.run", boom)
    res = _gen(cfg, out, 2)
    assert res.exit_code == 0, res.output
    assert "round 1: real test chrF" in res.output

    # a round interrupted after its training: the models are kept, the rest is finished
    (g / "round-1/round.json").unlink()
    monkeypatch.undo()
    monkeypatch.setattr("translate_synth.train.trainer.train_model", boom)
    res = _gen(cfg, out, 2)
    assert res.exit_code == 0, res.output
    assert json.loads((g / "round-1/round.json").read_text())["metrics"] == r1["metrics"]

    # other settings on the same --out: one line, exit 2 (a finished round, an unfinished one)
    (g / "round-2").mkdir()
    (g / "round-2/started.json").write_text(json.dumps({"identity": {"mix": "hybrid"}}))
    res = _gen(cfg, out, 3)
    assert res.exit_code == 2
    assert "unfinished round of other settings" in res.output
    res = _gen(cfg, out, 2, mix="hybrid")
    assert res.exit_code == 2
    assert "finished round of other settings" in res.output and "mix" in res.output


def test_a_round_that_keeps_no_synthetic_row_stops_the_loop_exit_3(tmp_path, tiny_nllb, sw_corpus):
    cfg = _config(tmp_path, tiny_nllb, sw_corpus)
    out = tmp_path / "exp"
    res = _gen(cfg, out, 2, "hybrid", "--set", "filters=[{type: length_ratio, min: 49, max: 50}, "
               "{type: rt_chrf, min: 100}]")  # in range, and no row passes both
    assert res.exit_code == 3, res.output
    assert "round 0: the run kept no synthetic row" in res.output
    rep = json.loads((out / "gen/generations.json").read_text())
    assert rep["stopped"]["round"] == 0 and rep["table"] == []
    assert not (out / "gen/round-0/round.json").exists()
    assert "Stopped: round 0" in (out / "gen/generations.md").read_text()


def test_round_configs_by_mix(tmp_path, sw_corpus):
    """Round k >= 1 synthesises with round k-1's models; hybrid keeps the configured
    curriculum, synthetic trains on one synthetic-only stage; round 0 is the config itself."""
    from translate_synth.config import load_config

    p = tmp_path / "sw.yaml"
    p.write_text(yaml.safe_dump({"lang": "sw", "data": {k: [str(v)] for k, v in
                                                        sw_corpus.items()}}))
    cfg0 = load_config(p)
    prev = {"models": {"forward": {"dir": "/m/fwd"}, "reverse": {"dir": "/m/rev"}}}
    for mix in ("hybrid", "synthetic"):
        c0 = gen_mod.round_config(cfg0, 0, mix, tmp_path / "r0", None)
        assert c0.model == cfg0.model and c0.curriculum == cfg0.curriculum
        c1 = gen_mod.round_config(cfg0, 1, mix, tmp_path / "r1", prev)
        assert c1.output.dir == str(tmp_path / "r1")
        assert c1.model.backend == "transformers" and c1.model.id is None
        assert c1.model.ids == {"en-sw": "/m/fwd", "sw-en": "/m/rev"}
        names = [s.name for s in c1.curriculum.stages]
        if mix == "hybrid":
            assert names == ["mixed", "real"]
        else:
            assert names == ["synthetic"]
            assert c1.curriculum.stages[0].real == 0
        assert c1.data == cfg0.data and c1.seed == cfg0.seed and c1.split == cfg0.split
    ids = [gen_mod.round_identity(gen_mod.identity(cfg0, m, "scratch"), 0)
           for m in ("hybrid", "synthetic")]
    assert ids[0] == ids[1]  # round 0 may be shared by both mixes


def test_calibration_reads_the_pairs_set_aside_not_the_training_pairs(tmp_path, tiny_nllb,
                                                                      sw_corpus):
    """``split.calibration``: the quality calibration and the real-pair scores that
    ``real_percentile`` cuts on (calibration.json ``real_rows``) come from the pairs set aside,
    none from train.jsonl."""
    cfg = yaml.safe_load(_config(tmp_path, tiny_nllb, sw_corpus).read_text())
    cfg["quality"] = {"calibrate": True, "logprob": False, "min_pairs": 3}
    cfg["split"]["calibration"] = 8
    cfg["synthesis"]["forward_translation"] = False
    p = tmp_path / "cal.yaml"
    p.write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(main, ["run", "--config", str(p), "--out", str(tmp_path / "out"),
                                    "--no-report", "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    run = tmp_path / "out" / "sw"
    cal = [json.loads(x) for x in (run / "calibration_pairs.jsonl").read_text().splitlines()]
    assert len(cal) == 8 and "8 set aside for calibration" in res.output
    real_rows = json.loads((run / "calibration.json").read_text())["real_rows"]
    assert {(r["source"], r["target"]) for r in real_rows} == \
        {(r["source"], r["target"]) for r in cal}
    train = {(json.loads(x)["source"], json.loads(x)["target"])
             for x in (run / "train.jsonl").read_text().splitlines()}
    assert not train & {(r["source"], r["target"]) for r in cal}
    assert json.loads((run / "stats.json").read_text())["real"]["calibration"] == 8


def test_calibration_split_is_a_config_key_with_its_limits():
    from translate_synth.config import build_config
    from translate_synth.split import calibration_size

    cfg = build_config({"lang": "sw", "split": {"calibration": 0.2}}).split
    # 20 %, at least min(50, a quarter), at most 300, and one pair always left to train
    assert [calibration_size(cfg, n) for n in (1, 8, 100, 1000, 10000)] == [0, 2, 25, 200, 300]
    assert calibration_size(build_config({"lang": "sw", "split": {"calibration": 30}}).split,
                            20) == 19
    assert calibration_size(build_config({"lang": "sw"}).split, 1000) == 0  # off by default
    with pytest.raises(Exception, match="split.calibration needs executor.name local"):
        build_config({"lang": "sw", "split": {"calibration": 0.2},
                      "executor": {"name": "ray"}})

"""`translate-synth train`: fine-tuning and the from-scratch baseline on a run's curriculum.

Run directories are written here in the format README "Output format" documents (manifest.json
with the resolved config, train.jsonl, train.<stage>.jsonl, valid.jsonl, valid_synthetic.jsonl),
from the toy English/Swahili pairs of tests/tiny_models.py; one test trains on the output of a
real `translate-synth run`. Models are tiny (d_model 64, one layer each side) and torch runs one
thread here: on 2 shared cores, two threads on such small matrices were 7x slower.
"""

import codecs
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import tiny_models
from test_network import no_network  # noqa: F401  (fixture)
from translate_synth.cli import main
from translate_synth.config import build_config
from translate_synth.rarewords import rare_word_recall, train_counts
from translate_synth.train.data import allocate_steps
from translate_synth.train.watch import Watch

REPO = Path(__file__).resolve().parents[1]

# tiny scratch model and short evaluations: every run below uses these
TINY = ["train.scratch.d_model=64", "train.scratch.layers=1", "train.scratch.heads=2",
        "train.scratch.ffn_dim=128", "train.scratch.dropout=0.1", "train.max_tokens=600",
        "train.eval_max_new_tokens=20", "train.eval_max_rows=30", "train.lr=0.01",
        "train.warmup_steps=10", "train.patience=0"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py


def _sets(*extra):
    return [a for s in TINY + list(extra) for a in ("--set", s)]


def _write(p: Path, rows):
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                 encoding="utf-8")


def make_run(d: Path, n_real=300, n_syn=300, n_valid=30, n_vsyn=30, cipher=False,
             valid_synthetic=True, **cfg):
    """A finished run: real pairs, back-translations, stages mixed (1:1) then real."""
    d.mkdir(parents=True, exist_ok=True)
    pairs = list(dict.fromkeys(tiny_models.toy_parallel(n_real + n_syn + n_valid + n_vsyn + 60)))
    real = [{"id": f"r{i}", "source": s, "target": t, "origin": "real"}
            for i, (s, t) in enumerate(pairs[:n_real])]
    syn = [{"id": f"b{i}", "source": s, "target": t, "origin": "bt", "authentic": "target"}
           for i, (s, t) in enumerate(pairs[n_real:n_real + n_syn])]
    k = n_real + n_syn
    valid = [{"id": f"v{i}", "source": s, "target": t, "origin": "real"}
             for i, (s, t) in enumerate(pairs[k:k + n_valid])]
    if cipher:  # the real valid targets in a letter cipher no training row shows: unlearnable
        for v in valid:
            v["target"] = codecs.encode(v["target"], "rot13")
    k += n_valid
    vsyn = [{"id": f"w{i}", "source": s, "target": t, "origin": "bt", "authentic": "target"}
            for i, (s, t) in enumerate(pairs[k:k + n_vsyn])]
    _write(d / "train.jsonl", real + syn)
    _write(d / "train.mixed.jsonl", [x for ab in zip(real, syn) for x in ab])
    _write(d / "train.real.jsonl", real)
    _write(d / "valid.jsonl", valid)
    _write(d / "test.jsonl", valid)
    if valid_synthetic:
        _write(d / "valid_synthetic.jsonl", vsyn)
    conf = build_config({"lang": "sw", **cfg}).model_dump(mode="json")
    (d / "manifest.json").write_text(json.dumps({"version": "0.1.0", "lang": "sw",
                                                 "source_lang": "en", "seed": 0,
                                                 "config": conf}))
    return d


def _log(model_dir: Path, kind=None):
    rows = [json.loads(x) for x in (model_dir / "train_log.jsonl").read_text().splitlines()]
    return [r for r in rows if kind is None or r["kind"] == kind]


def _train(*args):
    return CliRunner().invoke(main, ["train", *map(str, args)])


# ---------------------------------------------------------------- pure parts

def test_rare_word_recall_on_hand_made_hypotheses():
    counts = train_counts(["the cat sat", "the dog sat", "the dog ran", "the end the end"])
    # the 6, sat 2, dog 2, end 2, cat 1, ran 1 -> with k=2: rare cat/ran/sat/dog/end, frequent the
    refs = ["The cat saw a zebra", "the dog and the dog", "a zebra ran"]
    hyps = ["the cat saw the horse", "the dog", "no zebra here"]
    got = rare_word_recall(hyps, refs, counts, k=2)
    # rare: cat (1 of 1), dog twice in the ref, once in the hyp (1 of 2), ran (0 of 1): 2/4
    assert got["rare"] == {"occurrences": 4, "recalled": 2, "recall": 0.5, "types": 3}
    # unseen: saw, a, zebra, and, a, zebra: saw + zebra (sentence 3) recalled: 2/6
    assert got["unseen"] == {"occurrences": 6, "recalled": 2, "recall": 0.3333, "types": 4}
    # frequent: the x3 in refs (1 + 2), hyps have 2 + 1: min per sentence 1 + 1 = 2 of 3
    assert got["frequent"] == {"occurrences": 3, "recalled": 2, "recall": 0.6667, "types": 1}
    assert rare_word_recall(hyps, refs, counts, k=1)["rare"]["occurrences"] == 2  # cat, ran


def _rows(rng, means, n, sd=8.0):
    """Per-row sentence chrF around each evaluation's mean: a row keeps its own offset (rows
    differ in difficulty) plus fresh noise at every evaluation."""
    import numpy as np

    base = rng.normal(0, sd, n)
    return [list(np.clip(m + base + rng.normal(0, 3, n), 0, 100)) for m in means]


def _feed(w, real, syn, rows_r, rows_s):
    return [w.update(i * 10, "s", {"chrf": r, "bleu": 0, "loss": 1}, {"chrf": s},
                     {"real": rr, "synthetic": ss})
            for i, (r, s, rr, ss) in enumerate(zip(real, syn, rows_r, rows_s))]


def test_watch_alarm_best_and_patience_on_given_curves():
    import numpy as np

    rng = np.random.default_rng(0)
    real = [10, 20, 25, 25.2, 25.1, 25.3, 25.0]
    syn = [10, 20, 25, 27, 29, 31, 32]
    w = Watch(select="chrf", patience=2, delta=2.0, window=3, real_delta=0.5)
    out = _feed(w, real, syn, _rows(rng, real, 80), _rows(rng, syn, 80))
    # a window of 4 evaluations: nothing judged before the 4th; real rises while the window
    # still holds steps 0-20; from step 50 real is flat and synthetic climbs ~2 a step: alarm
    assert [o["divergence"] for o in out[:3]] == [None] * 3
    assert [o["alarm"] is not None for o in out] == [False] * 5 + [True, True]
    a = out[5]["alarm"]
    assert a["step"] == 50 and a["robust"]["synthetic_rise"] >= 2.0
    assert a["real_rise_ci"][0] < 0.5
    assert a["gap_rise_ci"][0] > 0 and a["gap_rise_ci"][0] < a["gap_rise"] < a["gap_rise_ci"][1]
    assert [c["step"] for c in a["curves"]] == [20, 30, 40, 50]
    assert [o["best"] for o in out] == [True, True, True, True, False, True, False]
    assert [o["stop_stage"] for o in out] == [False] * 7  # never two evaluations without a best
    assert w.summary()["judged"] == 4 and w.summary()["abstained"] == 0
    # the same curves on 20 rows: not judged, counted
    w20 = Watch(min_rows=50)
    out = _feed(w20, real, syn, _rows(rng, real, 20), _rows(rng, syn, 20))
    assert not any(o["alarm"] for o in out)
    assert out[-1]["divergence"].startswith("cannot judge: real valid 20 rows, synthetic")
    assert w20.summary()["abstained"] == 4 and w20.summary()["judged"] == 0
    # one lucky evaluation (synthetic +8 at the last one only, flat before): no sustained trend
    flat = [30.0] * 6
    lucky = [30.0] * 5 + [38.0]
    w1 = Watch()
    out = _feed(w1, flat, lucky, _rows(rng, flat, 80), _rows(rng, lucky, 80))
    # the fit through all 4 evaluations rises 0.9 x 8 = 7.2 (the old two-point rule saw +8),
    # but without the last evaluation it is flat: no alarm; a bump in the middle neither
    assert out[-1]["divergence"] == "clear" and not any(o["alarm"] for o in out)
    bump = [30.0] * 4 + [38.0, 30.0]
    wb = Watch()
    assert not any(o["alarm"] for o in _feed(wb, flat, bump, _rows(rng, flat, 80),
                                             _rows(rng, bump, 80)))
    # noise alone on the same number of rows: no alarm
    w0 = Watch()
    out0 = _feed(w0, flat, flat, _rows(rng, flat, 80), _rows(rng, flat, 80))
    assert not any(o["alarm"] for o in out0)
    w2 = Watch(select="loss", patience=2)
    got = [w2.update(i, "s", {"chrf": 1, "loss": x}, {"chrf": 1})["stop_stage"]
           for i, x in enumerate([3.0, 2.0, 2.5, 2.1])]
    assert got == [False, False, False, True]  # loss: lower is better
    # both rising together: no alarm
    w3 = Watch()
    up = [10 + 3 * i for i in range(8)]
    assert not any(o["alarm"] for o in _feed(w3, up, up, _rows(rng, up, 80), _rows(rng, up, 80)))
    # resumed from its state, a watch decides the same (the bootstrap is seeded)
    w4 = Watch.from_state(json.loads(json.dumps(Watch().state())))
    rr, ss = _rows(np.random.default_rng(1), real, 80), _rows(np.random.default_rng(2), syn, 80)
    first = _feed(w4, real[:4], syn[:4], rr[:4], ss[:4])
    w5 = Watch.from_state(json.loads(json.dumps(w4.state())))
    w6 = Watch()
    full = _feed(w6, real, syn, rr, ss)
    rest = [w5.update(i * 10, "s", {"chrf": r, "bleu": 0, "loss": 1}, {"chrf": s},
                      {"real": a_, "synthetic": b_})
            for i, (r, s, a_, b_) in list(enumerate(zip(real, syn, rr, ss)))[4:]]
    assert [o["alarm"] for o in first + rest] == [o["alarm"] for o in full]


def test_steps_split_by_stage_rows_unless_a_stage_sets_its_own():
    assert allocate_steps([600, 300], ["mixed", "real"], 100, {}, [0, 0], 1) == [67, 33]
    assert allocate_steps([600, 300], ["mixed", "real"], 100, {"real": 10}, [0, 0], 1) == [90, 10]
    assert allocate_steps([600, 0], ["mixed", "real"], 100, {}, [0, 0], 1) == [100, 0]
    assert allocate_steps([600, 300], ["mixed", "real"], None, {}, [7, 4], 2.5) == [18, 10]


def test_a_run_holds_out_a_capped_share_of_synthetic_rows_by_default(tmp_path):
    from translate_synth.trainsets import write_splits

    cands = tmp_path / "candidates.jsonl"
    _write(cands, [{"id": f"bt-{i}", "origin": "bt", "source": f"s {i}", "target": f"t {i}",
                    "authentic": "target", "scores": {"quality": 1.0}, "accepted": True}
                   for i in range(400)])
    for cur, want in (({}, 20), ({"valid_synthetic_max": 7}, 7)):  # 5 % of 400; capped
        out = tmp_path / f"out{want}"
        out.mkdir()
        counts, _ = write_splits(None, cands, [], [], out,
                                 build_config({"lang": "sw", "curriculum": cur}))
        assert sum(counts["valid_synthetic"].values()) == want


# ---------------------------------------------------------------- training

def test_scratch_training_follows_the_stages_and_the_loss_on_real_valid_falls(tmp_path):
    run = make_run(tmp_path / "run")
    out = tmp_path / "model"
    res = _train(run, "--model", "scratch", "--out", out, "--max-steps", 120,
                 *_sets("train.eval_every=10", "train.log_every=1"))
    assert res.exit_code == 0, res.output
    assert "trained: 120 steps (max_steps)" in res.output
    summary = json.loads((out / "train.json").read_text())
    # 600 mixed rows and 300 real ones: 80 and 40 of the 120 steps, mixed first
    assert [(s["name"], s["steps"], s["first_step"], s["last_step"]) for s in summary["stages"]] \
        == [("mixed", 80, 1, 80), ("real", 40, 81, 120)]
    steps = _log(out, "train")
    assert [e["step"] for e in steps] == list(range(1, 121))
    assert [e["stage"] for e in steps] == ["mixed"] * 80 + ["real"] * 40
    evals = _log(out, "eval")
    assert [e["step"] for e in evals] == list(range(10, 121, 10))
    losses = [e["real"]["loss"] for e in evals]
    assert losses[-1] < 0.5 * losses[0], losses  # 3.4 -> 0.9 when written
    assert evals[-1]["real"]["chrf"] > evals[0]["real"]["chrf"] + 20
    assert summary["alarms"] == [] and not any(e["alarm"] for e in evals)  # a normal run
    # 30 rows a valid set (demo-sized): the alarm says it cannot judge, and how often
    assert "cannot judge: real valid 30 rows, synthetic valid 30 rows" in res.output
    assert summary["divergence"]["abstained"] == len(evals) - 3
    assert summary["divergence"]["judged"] == 0 and "could not judge at 9" in res.output
    best = max(evals, key=lambda e: e["real"]["chrf"])
    assert summary["best"]["step"] == best["step"]
    assert set(summary["signatures"]) == {"bleu", "chrf"}
    assert "nrefs:1|case:mixed|eff:no|tok:13a" in summary["signatures"]["bleu"]
    rw = evals[-1]["real"]["rare_words"]
    assert set(rw) == {"rare", "unseen", "frequent"} and rw["frequent"]["recall"] > 0.3
    m = summary["model"]
    assert m["family"] == "marian" and m["vocab_size"]["asked"] == 8000
    assert m["vocab_size"]["used"] < 300  # the toy text is too small for 8,000 pieces
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert not (out / "checkpoints").exists()
    for f in ("config.json", "model.safetensors", "source.spm", "vocab.json",
              "tokenizer_config.json"):
        assert (out / f).is_file(), f

    # the saved model is a normal model directory: both backends load it and translate
    from translate_synth.backends import make_translator

    got = {}
    for backend in ("transformers", "ctranslate2"):
        cfg = build_config({"lang": "sw", "model": {"backend": backend, "id": str(out),
                                                    "ct2_quantization": "float32"},
                            "cache": {"enabled": False},
                            "synthesis": {"decoding": {"beam_size": 1, "max_new_tokens": 20}}})
        tr = make_translator(cfg)
        got[backend] = tr.translate(["The child eats food.", "My friend reads a book today."],
                                    "en", "sw", cfg.synthesis.decoding)
    assert got["transformers"] == got["ctranslate2"]
    assert all(h[0].strip() for h in got["transformers"])
    from safetensors.torch import load_file

    emb = load_file(out / "model.safetensors")["model.shared.weight"]
    pad = json.loads((out / "config.json").read_text())["pad_token_id"]
    assert pad == emb.shape[0] - 1 and not emb[pad].any()  # CTranslate2's decoder start


def test_divergence_alarm_fires_when_only_the_synthetic_valid_set_is_learnable(tmp_path):
    """A planted divergence and its normal twin, valid sets of 80 rows (above
    train.divergence.min_rows 50), seed 0, 200 steps evaluated every 10 (as
    eval/divergence.py): in the planted run the real valid targets are in ROT13, so the model
    fits the synthetic valid set and nothing it learns helps on the real one. The default alarm
    (fitted rise over 4 evaluations, bootstrap interval of the gap above zero with any one
    evaluation left out, synthetic +2.0, real not shown to rise by 0.5) fires there and never
    on the normal twin. eval/divergence.md measures both kinds over 10 seeds."""
    sets = _sets("train.eval_every=10", "train.eval_max_rows=80")
    runs = {}
    for kind in ("normal", "planted"):
        run = make_run(tmp_path / f"{kind}-run", n_valid=80, n_vsyn=80, cipher=kind == "planted")
        out = tmp_path / kind
        res = _train(run, "--model", "scratch", "--out", out, "--max-steps", 200,
                     "--stop-on-divergence", *sets)
        runs[kind] = (res, out)
    res, out = runs["normal"]
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "train.json").read_text())
    assert summary["alarms"] == [] and summary["divergence"]["abstained"] == 0
    assert summary["divergence"]["judged"] == len(_log(out, "eval")) - 3  # all but the first 3
    res, out = runs["planted"]
    assert res.exit_code == 3, res.output
    assert "divergence alarm at step" in res.stderr and "interval" in res.stderr
    summary = json.loads((out / "train.json").read_text())
    assert summary["stopped"] == "divergence" and summary["steps"] < 200
    a = summary["alarms"][0]
    assert a["step"] == summary["steps"] and a["robust"]["synthetic_rise"] >= 2.0
    assert a["gap_rise_ci"][0] > 0 and a["real_rise_ci"][0] < 0.5 and len(a["curves"]) == 4
    assert a["rows"] == {"real": 80, "synthetic": 80}
    assert [e["alarm"] for e in _log(out, "eval")][-1] is True
    assert (out / "model.safetensors").is_file()  # the best real checkpoint is written


def test_recorded_curves_normal_stays_clear_and_planted_fires():
    """Per-row sentence chrF recorded by eval/divergence.py (tests/data/divergence_curves.json:
    its first normal and first planted run, 80 rows a set, an evaluation every 10 steps),
    replayed through the watch with the default settings: the pure decision, no training."""
    rec = json.loads((REPO / "tests/data/divergence_curves.json").read_text())
    got = {}
    for run in rec["runs"]:
        w = Watch()
        out = [w.update(e["step"], "s", {"chrf": 0.0, "bleu": 0, "loss": 1}, {"chrf": 0.0},
                        e["rows"]) for e in run["evals"]]
        got[run["kind"]] = [e["step"] for e, o in zip(run["evals"], out) if o["alarm"]]
        assert w.summary()["judged"] == len(run["evals"]) - 3
    assert got["normal"] == [] and got["planted"], got
    # the same curves cut to 40 rows: not judged at all
    w = Watch()
    for e in rec["runs"][1]["evals"]:
        o = w.update(e["step"], "s", {"chrf": 0.0, "bleu": 0, "loss": 1}, {"chrf": 0.0},
                     {k: v[:40] for k, v in e["rows"].items()})
        assert not o["alarm"]
    assert w.summary()["abstained"] == len(rec["runs"][1]["evals"]) - 3


def _resume_sets():
    return _sets("train.eval_every=5", "train.log_every=1", "train.keep_checkpoints=true",
                 "train.scratch.dropout=0.3")


def _last_weights(model_dir: Path):
    from safetensors.torch import load_file

    ck = model_dir / "checkpoints"
    return load_file(ck / (ck / "LATEST").read_text().strip() / "model.safetensors")


def test_resume_after_a_kill_and_a_ctrl_c_equals_an_uninterrupted_run(tmp_path):
    run = make_run(tmp_path / "run", n_real=120, n_syn=120)
    args = ["--model", "scratch", "--max-steps", 20, *_resume_sets()]
    a = tmp_path / "a"
    res = _train(run, "--out", a, *args)
    assert res.exit_code == 0, res.output
    b = tmp_path / "b"
    # killed (SIGKILL, no clean-up) just after the checkpoint of step 10
    env = {**os.environ, "TRANSLATE_SYNTH_FAULT": "train:eval:10", "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-m", "translate_synth", "train", str(run), "--out",
                        str(b), *map(str, args), "--quiet"], env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == -9, p.stderr[-2000:]
    assert not (b / "train.json").exists()
    res = _train(run, "--out", b, *args)  # without --resume: refused, names the step
    assert res.exit_code == 2 and "unfinished training (checkpoint at step 10)" in res.output
    res = _train(run, "--out", b, *args, "--set", "train.lr=0.02", "--resume")
    assert res.exit_code == 2 and "train.lr changed" in res.output
    # resumed, then Ctrl-C at step 15 (after its checkpoint), then resumed to the end
    os.environ["TRANSLATE_SYNTH_FAULT"] = "sigint@train:eval:15"
    try:
        res = _train(run, "--out", b, *args, "--resume")
    finally:
        del os.environ["TRANSLATE_SYNTH_FAULT"]
    assert res.exit_code == 130 and "--resume to continue" in res.output, res.output
    res = _train(run, "--out", b, *args, "--resume")
    assert res.exit_code == 0, res.output
    strip = [{k: v for k, v in e.items() if k != "time"} for e in _log(a)], \
        [{k: v for k, v in e.items() if k != "time"} for e in _log(b)]
    assert strip[0] == strip[1] and len(strip[0]) == 20 + 5  # evals 5 10 13 15 20
    wa, wb = _last_weights(a), _last_weights(b)
    assert wa.keys() == wb.keys()
    import torch

    assert all(torch.allclose(wa[k], wb[k], atol=1e-6, rtol=0) for k in wa)
    assert json.loads((b / "train.json").read_text())["resumed_at"] == [10, 15]


@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny_train")


# the target-language code each family's labels must start with (None: no code in the labels)
LABEL_CODE = {"nllb": "swh_Latn", "m2m100": "__sw__", "mbart50": "sw_KE", "marian": None,
              "madlad": None}


@pytest.mark.parametrize("family", ["nllb", "marian", "m2m100", "mbart50", "madlad"])
def test_fine_tune_a_pretrained_model_with_its_language_codes(tmp_path, family, request,
                                                              tiny_models_dir, monkeypatch,
                                                              no_network):  # noqa: F811
    if family in ("nllb", "marian", "m2m100"):
        model = request.getfixturevalue(f"tiny_{family}")
    else:
        make = tiny_models.make_tiny_mbart50 if family == "mbart50" else tiny_models.make_tiny_t5
        model = tiny_models_dir / family
        if not model.exists():
            make(model)
    run = make_run(tmp_path / "run", n_real=60, n_syn=60, n_valid=8, n_vsyn=8)
    out = tmp_path / "model"
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    res = _train(run, "--model", model, "--out", out, "--max-steps", 4, "--track", "comet",
                 "--set", "train.eval_max_new_tokens=8", "--set", "train.max_tokens=300")
    assert res.exit_code == 0, res.output
    s = json.loads((out / "train.json").read_text())
    assert s["model"]["family"] == family and s["model"]["init"] == str(model)
    assert s["lr"]["peak"] == 5e-5 and s["steps"] == 4
    evals = _log(out, "eval")
    assert [e["step"] for e in evals] == [0, 3, 4]  # the pretrained baseline, stage ends
    assert s["best"]["step"] in (0, 3, 4)
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out)
    AutoModelForSeq2SeqLM.from_pretrained(out)
    # what it trained on: the family's codes (source code or <2sw> tag first, target code
    # first in the labels), as the transformers backend decodes
    from translate_synth.train.data import load_run
    from translate_synth.train.trainer import Trainer

    tr = Trainer(load_run(run), str(model), tmp_path / "probe", False, False, None)
    tr.load()
    (src,), (tgt,) = tr.encode([("The child eats food.", "Mtoto anakula chakula.")])
    first = {"nllb": "eng_Latn", "m2m100": "__en__", "mbart50": "en_XX", "madlad": "<2sw>"}
    assert tok.convert_ids_to_tokens(src)[0] == first.get(family, "▁The")
    assert tok.convert_ids_to_tokens(tgt)[-1] == "</s>"
    if LABEL_CODE[family]:
        assert tok.convert_ids_to_tokens(tgt)[0] == LABEL_CODE[family]
    with zipfile.ZipFile(next((out / "comet").glob("*.zip"))) as z:
        msgs = [json.loads(x) for x in z.read("messages.json").decode().splitlines()]
    names = {m["payload"]["metric"]["metricName"] for m in msgs if m["type"] == "metric_msg"}
    assert {"real.chrf", "synthetic.chrf", "real.recall.rare", "train_loss"} <= names
    assert no_network == []


def test_train_on_the_output_of_a_real_run(tmp_path, tiny_nllb, sw_corpus):
    """A `translate-synth run` (tiny NLLB) emits valid_synthetic.jsonl by default; train reads
    its stages and valid sets as they are."""
    cfg = {"lang": "sw", "seed": 3, "model": {"backend": "transformers", "id": str(tiny_nllb)},
           "data": {k: [str(v)] for k, v in sw_corpus.items()},
           "synthesis": {"decoding": {"beam_size": 1, "max_new_tokens": 12},
                         "paraphrase": {"enabled": False}},
           "quality": {"calibrate": False, "logprob": False},
           "filters": [{"type": "length_ratio", "min": 0.05, "max": 20},
                       {"type": "rt_chrf", "min": 0.0}],
           "split": {"valid": 5, "test": 5}, "curriculum": {"valid_synthetic": 0.1}}
    (tmp_path / "sw.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(main, ["run", "--config", str(tmp_path / "sw.yaml"), "--out",
                                    str(tmp_path / "out"), "--no-report", "--quiet"])
    assert res.exit_code == 0, res.output
    run = tmp_path / "out" / "sw"
    held = (run / "valid_synthetic.jsonl").read_text().splitlines()
    # the tiny random model writes one junk string for every input: no synthetic row has a
    # side no other row has, so none qualifies for valid_synthetic; the run says so
    assert held == []
    stats = json.loads((run / "stats.json").read_text())
    assert any("valid_synthetic.jsonl is empty" in w for w in stats["warnings"])
    out = tmp_path / "model"
    res = _train(run, "--model", "scratch", "--out", out, "--max-steps", 6, *_sets())
    assert res.exit_code == 0, res.output
    s = json.loads((out / "train.json").read_text())
    assert [st["name"] for st in s["stages"]] == ["mixed", "real"]
    assert s["valid_rows"] == {"real": 5, "synthetic": 0}
    assert "cannot judge: real valid 5 rows, synthetic valid 0 rows" in res.output
    assert all(e["synthetic"]["chrf"] is None for e in _log(out, "eval"))


def test_bad_input_is_one_line_exit_2(tmp_path):
    run = make_run(tmp_path / "run", n_real=20, n_syn=20, valid_synthetic=False)
    res = _train(run, "--model", "scratch", "--out", tmp_path / "m")
    assert res.exit_code == 2
    assert f"translate-synth refilter {run} --set curriculum.valid_synthetic=50" in res.output
    run2 = make_run(tmp_path / "run2", n_real=20, n_syn=20)
    for args, match in [
        (["--set", "curriculum.tag_bt=true"], "train takes train.* settings only"),
        (["--set", "train.eval_evry=3"], "did you mean 'eval_every'"),
        (["--max-steps", "0"], "--max-steps 0"),
        (["--set", "train.stage_steps={warmup: 3}"], "no stage 'warmup'"),
        (["--set", "train.precision=bf16"], "needs a CUDA device"),
    ]:
        res = _train(run2, "--model", "scratch", "--out", tmp_path / "m2", *args)
        assert res.exit_code == 2, (args, res.output)
        err = [x for x in res.output.splitlines() if x.startswith("error:")]
        assert len(err) == 1 and match in err[0], (args, res.output)
    res = _train(tmp_path / "nope", "--model", "scratch", "--out", tmp_path / "m3")
    assert res.exit_code == 2 and "no such run directory" in res.output
    res = _train(run2, "--model", tmp_path / "no-model", "--out", tmp_path / "m4")
    assert res.exit_code == 2 and "does not exist" in res.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    res = _train(run2, "--model", "scratch", "--out", tmp_path / "full")
    assert res.exit_code == 2 and "is not empty" in res.output

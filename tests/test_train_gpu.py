"""The CUDA paths of `train`, `evaluate` and the transformers backend, checked on a CPU: the
precision table (never float16 for T5-family weights), the resume identity (the resolved
device and precision, a cuda checkpoint refused on CPU in one line), `torch.load` with
`map_location` and `weights_only=True`, the RNG restore with fewer GPUs visible than saved, and
the early-stop state in the checkpoint a resume reads."""

import json
import os
from types import SimpleNamespace

import pytest

from test_train import _log, _sets, _train, make_run
from translate_synth.errors import UserError
from translate_synth.precision import inference_dtype, is_t5, train_precision
from translate_synth.train.checkpoints import restore_rng
from translate_synth.train.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py

MODEL_TYPES = ["t5", "mt5", "umt5", "marian", "m2m_100", "mbart"]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:1"])
@pytest.mark.parametrize("bf16_ok", [True, False])
def test_precision_table_never_gives_fp16_to_t5_family_weights(model_type, device, bf16_ok):
    t5 = model_type in ("t5", "mt5", "umt5")
    cuda = device.startswith("cuda")
    want_inf = "float32" if not cuda else "bfloat16" if bf16_ok else \
        "float32" if t5 else "float16"
    assert inference_dtype("auto", device, model_type, bf16_ok) == want_inf
    want_train = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}[want_inf]
    assert train_precision("auto", device, model_type, bf16_ok) == want_train
    # the family alone (a converted MADLAD directory) says T5 too
    assert inference_dtype("auto", device, None, bf16_ok, family="madlad") in (
        "float32", "bfloat16")
    if t5:  # asked for explicitly: refused in one line, never silently used
        with pytest.raises(UserError, match="overflow in float16"):
            inference_dtype("float16", device, model_type, bf16_ok)
        if cuda:
            with pytest.raises(UserError, match="overflow in float16"):
                train_precision("fp16", device, model_type, bf16_ok)
    else:
        assert inference_dtype("float16", device, model_type, bf16_ok) == "float16"
    if cuda and not bf16_ok:
        with pytest.raises(UserError, match="no bfloat16 support"):
            train_precision("bf16", device, model_type, bf16_ok)
    if not cuda:
        with pytest.raises(UserError, match="needs a CUDA device"):
            train_precision("bf16", device, model_type, bf16_ok)
    assert is_t5(model_type) == t5


def test_the_backend_reads_the_model_type_of_the_model_it_loads(tiny_t5, tiny_marian):
    from translate_synth.backends.hf import TransformersTranslator
    from translate_synth.config import build_config

    for model, mtype in ((tiny_t5, "t5"), (tiny_marian, "marian")):
        cfg = build_config({"lang": "sw", "model": {"id": str(model), "device": "cpu"},
                            "cache": {"enabled": False}})
        tr = TransformersTranslator(cfg)
        tok, m = tr.load(str(model))
        assert m.config.model_type == mtype and str(m.dtype) == "torch.float32"
        assert tr.describe()["dtype_used"] == {str(model): "float32"}
        # on a GPU without bf16 the same call would give the table's answer
        assert inference_dtype("auto", "cuda", m.config.model_type, False) == (
            "float32" if mtype == "t5" else "float16")


class _FakeCuda:
    def __init__(self, visible):
        self.visible, self.calls = visible, []

    def is_available(self):
        return self.visible > 0

    def device_count(self):
        return self.visible

    def set_rng_state(self, state, device):
        self.calls.append((state, device))

    def set_rng_state_all(self, states):  # what the old code called: fails with fewer GPUs
        raise RuntimeError("invalid device ordinal")


@pytest.mark.parametrize("saved,visible,restored", [(2, 1, 1), (1, 2, 1), (2, 0, 0), (0, 1, 0)])
def test_rng_restore_with_other_gpus_visible_restores_only_what_matches(saved, visible, restored,
                                                                        capsys):
    import torch

    cpu = torch.get_rng_state()
    fake = SimpleNamespace(cuda=_FakeCuda(visible), set_rng_state=lambda s: None)
    restore_rng(fake, {"cpu": cpu, "cuda": [f"state{i}" for i in range(saved)]})
    assert fake.cuda.calls == [(f"state{i}", i) for i in range(restored)]
    said = "] train: the checkpoint has the CUDA RNG state" in capsys.readouterr().err
    assert said == (saved != visible and saved > 0)


def _interrupted(tmp_path, run, out, at):
    """A training of 8 steps stopped by Ctrl-C after the checkpoint of step ``at``."""
    os.environ["TRANSLATE_SYNTH_FAULT"] = f"sigint@train:eval:{at}"
    try:
        res = _train(run, "--model", "scratch", "--out", out, "--max-steps", 8,
                     *_sets("train.eval_every=2", "train.keep_checkpoints=true"))
    finally:
        del os.environ["TRANSLATE_SYNTH_FAULT"]
    assert res.exit_code == 130, res.output
    latest = out / "checkpoints" / (out / "checkpoints" / "LATEST").read_text().strip()
    return latest


def test_resume_identity_holds_the_resolved_device_and_loads_with_map_location(
        tmp_path, monkeypatch):
    run = make_run(tmp_path / "run", n_real=40, n_syn=40, n_valid=6, n_vsyn=6)
    out = tmp_path / "m"
    ck = _interrupted(tmp_path, run, out, 4)
    state = json.loads((ck / "state.json").read_text())
    ident = state["identity"]
    assert ident["device"] == "cpu" and ident["precision"] == "fp32"  # resolved, not auto
    assert "device" not in ident["train"]  # compared as resolved, not as asked
    # a checkpoint made on a GPU, resumed here: refused in one line naming both
    state["identity"] = {**ident, "device": "cuda", "precision": "bf16"}
    (ck / "state.json").write_text(json.dumps(state))
    args = ["--model", "scratch", "--out", out, "--max-steps", 8,
            *_sets("train.eval_every=2", "train.keep_checkpoints=true"), "--resume"]
    res = _train(run, *args)
    assert res.exit_code == 2, res.output
    err = [x for x in res.output.splitlines() if x.startswith("error:")]
    assert len(err) == 1 and "trained on cuda (bf16)" in err[0] and "on cpu" in err[0]
    # the same precision check once the model is loaded
    state["identity"] = {**ident, "precision": "bf16"}
    (ck / "state.json").write_text(json.dumps(state))
    res = _train(run, *args)
    assert res.exit_code == 2 and "trained in bf16" in res.output, res.output
    # back as it was: resumes, every torch.load onto a device and weights only
    state["identity"] = ident
    (ck / "state.json").write_text(json.dumps(state))
    import torch

    calls = []
    real_load = torch.load

    def spy(*a, **kw):
        calls.append((os.path.basename(str(a[0])), kw))
        return real_load(*a, **kw)

    monkeypatch.setattr(torch, "load", spy)
    # the fix the refusal names: the device given by name resolves to the same, so it resumes
    res = _train(run, *args, "--set", "train.device=cpu")
    assert res.exit_code == 0, res.output
    assert {n for n, _ in calls} == {"optimizer.pt", "trainer.pt"}
    assert all(kw.get("weights_only") is True and kw.get("map_location") is not None
               for _, kw in calls), calls
    assert json.loads((out / "train.json").read_text())["resumed_at"] == [4]


def test_the_early_stop_is_in_the_checkpoint_a_resume_reads(tmp_path, monkeypatch):
    """Real-valid scores that never improve: patience 1 ends the one stage at the second
    evaluation; the checkpoint of that evaluation already says so."""
    run = make_run(tmp_path / "run", n_real=40, n_syn=40, n_valid=6, n_vsyn=6,
                   curriculum={"enabled": False})
    flat = {"rows": 6, "loss": 1.0, "bleu": 1.0, "chrf": 1.0, "sentence_chrf": 1.0}
    monkeypatch.setattr(Trainer, "evaluate", lambda self: {
        "real": {**flat, "rare_words": {c: {"recall": None} for c in
                                        ("rare", "unseen", "frequent")}},
        "synthetic": dict(flat), "rows": {"real": [1.0] * 6, "synthetic": [1.0] * 6}})
    out = tmp_path / "m"
    res = _train(run, "--model", "scratch", "--out", out, "--max-steps", 10,
                 *_sets("train.eval_every=2", "train.keep_checkpoints=true",
                        "train.patience=1"))
    assert res.exit_code == 0, res.output
    s = json.loads((out / "train.json").read_text())
    assert s["stopped"] == "early_stopping" and s["steps"] == 4
    assert s["stages"][0]["stopped_early"] is True
    st = s["model"]["settings"]  # what train took from the run, and what from the model
    assert "codes" in st["from_run"] and st["revision"] is None
    assert st["model_settings_from"].startswith("defaults")
    ck = out / "checkpoints" / (out / "checkpoints" / "LATEST").read_text().strip()
    state = json.loads((ck / "state.json").read_text())
    assert state["step"] == 4 and state["stopped"] == "early_stopping"
    assert state["stage_log"]["train"]["stopped_early"] is True
    assert [e["step"] for e in _log(out, "eval")] == [2, 4]


def test_evaluate_and_train_take_model_settings_from_the_model_given(tmp_path, tiny_marian):
    """The run synthesised with a pinned, remote-code, float16, sampling model: a different
    model gets none of that; the run's own model keeps its settings; sampling never."""
    from translate_synth.config import build_config
    from translate_synth.evaluate_config import eval_config, settings_origin
    from translate_synth.train.data import load_run

    run_model = {"id": "org/run-model", "revision": "abc123", "trust_remote_code": True,
                 "dtype": "float16"}
    dec = {"sampling": True, "beam_size": 2, "temperature": 0.7, "max_new_tokens": 40}
    conf = build_config({"lang": "sw", "model": run_model,
                         "synthesis": {"decoding": dec}}).model_dump(mode="json")
    manifest = {"config": conf}
    other = eval_config(manifest, str(tiny_marian), "transformers")
    m = other.model
    assert (m.revision, m.trust_remote_code, m.dtype) == (None, False, "auto")
    d = other.synthesis.decoding
    gen_beams = json.loads((tiny_marian / "generation_config.json").read_text()).get("num_beams")
    assert not d.sampling and d.beam_size == (gen_beams or 4)
    assert d.max_new_tokens == 40  # a length limit: the run's
    assert other.lang == "sw" and other.scoring.bleu_tokenize == conf["scoring"]["bleu_tokenize"]
    same = eval_config(manifest, "org/run-model", "transformers")
    assert (same.model.revision, same.model.trust_remote_code, same.model.dtype) == \
        ("abc123", True, "float16")
    assert not same.synthesis.decoding.sampling
    origin = settings_origin(other, manifest, str(tiny_marian), "transformers")
    assert origin["model_settings_from"].startswith("defaults")
    assert "scoring.bleu_tokenize" in origin["from_run"]
    # --set still wins
    assert eval_config(manifest, str(tiny_marian), "transformers",
                       ["synthesis.decoding.beam_size=3"]).synthesis.decoding.beam_size == 3
    # train: a model that is not the run's gets no revision or remote code from it
    run = make_run(tmp_path / "run", n_real=10, n_syn=10, n_valid=3, n_vsyn=3, model=run_model)
    tr = Trainer(load_run(run), str(tiny_marian), tmp_path / "m", False, False, None)
    t = tr.translator(str(tiny_marian), same_model=False)
    assert (t.mcfg.revision, t.mcfg.trust_remote_code, t.mcfg.dtype) == (None, False, "float32")
    t = tr.translator(str(tiny_marian), same_model=True)
    assert (t.mcfg.revision, t.mcfg.trust_remote_code) == ("abc123", True)

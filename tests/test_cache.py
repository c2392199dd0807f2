"""The translation cache: hits, misses, invalidation, and a re-run with zero model calls."""

import json

from click.testing import CliRunner

from test_run import _config
from translate_synth.backends import make_translator
from translate_synth.cli import main
from translate_synth.config import Decoding, build_config


def _tr(model, tmp_path, **cfg):
    return make_translator(build_config({"lang": "sw", "model": {"id": str(model)},
                                         "cache": {"dir": str(tmp_path / "cache")}, **cfg}))


def test_hits_misses_and_invalidation(tiny_nllb, tmp_path):
    tr = _tr(tiny_nllb, tmp_path)
    d = Decoding(beam_size=2, max_new_tokens=6)
    a = tr.translate(["one two", "three four", "one two"], "en", "sw", d)
    assert tr.inner.sentences_translated == 2  # a repeated text is translated once
    assert a[0] == a[2]
    tr2 = _tr(tiny_nllb, tmp_path)  # another process later: same cache file
    assert tr2.translate(["three four"], "en", "sw", d) == [a[1]]
    assert tr2.inner.sentences_translated == 0 and tr2.hits == 1
    for changed in (d.model_copy(update={"beam_size": 3}), d.model_copy(update={"max_new_tokens": 5}),
                    d.model_copy(update={"sampling": True, "beam_size": 1})):
        tr2.translate(["three four"], "en", "sw", changed)
    assert tr2.inner.sentences_translated == 3  # every decoding change is a miss
    tr2.translate(["three four"], "sw", "en", d)
    assert tr2.inner.sentences_translated == 4  # so is another direction
    tr2.translate(["three four"], "en", "sw", d.model_copy(update={"batch_size": 1}))
    assert tr2.inner.sentences_translated == 4  # batch size does not change a result
    s1 = tr2.translate(["x y"], "en", "sw", Decoding(sampling=True, beam_size=1), n=2, seed=1)
    tr2.translate(["x y"], "en", "sw", Decoding(sampling=True, beam_size=1), n=2, seed=2)
    assert tr2.inner.sentences_translated == 6  # the seed matters when sampling
    assert tr2.translate(["x y"], "en", "sw", Decoding(sampling=True, beam_size=1), n=2,
                         seed=1) == s1


def test_a_rerun_makes_zero_model_calls(tiny_nllb, sw_corpus, tmp_path):
    cfg = _config(tmp_path, tiny_nllb, sw_corpus)
    args = ["run", "--config", str(cfg), "--no-report", "--cache-dir", str(tmp_path / "c")]
    stats = []
    for out in ("a", "b"):
        res = CliRunner().invoke(main, args + ["--out", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
        stats.append(json.loads((tmp_path / out / "sw" / "stats.json").read_text()))
    assert stats[0]["model_sentences_translated"] > 0
    assert stats[1]["model_sentences_translated"] == 0
    assert stats[1]["model_sentences_scored"] == 0
    for f in ("train.jsonl", "candidates.jsonl"):
        assert (tmp_path / "a" / "sw" / f).read_bytes() == (tmp_path / "b" / "sw" / f).read_bytes()
    res = CliRunner().invoke(main, args + ["--out", str(tmp_path / "c2"), "--no-cache"])
    st = json.loads((tmp_path / "c2" / "sw" / "stats.json").read_text())
    # without the cache every request reaches the model (with it, a run already reuses the
    # translations shared by synthesis, round trip and calibration)
    assert st["model_sentences_translated"] > stats[0]["model_sentences_translated"]

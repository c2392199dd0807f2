"""The CTranslate2 backend agrees with transformers on the same model (greedy/beam)."""

import pytest

from translate_synth.backends import make_translator
from translate_synth.config import Decoding, build_config

TEXTS = ["The child eats food.", "Hello, world!", "A much longer sentence about many things."]


def _pair(model_dir, tmp_path, **model):
    out = []
    for be in ("transformers", "ctranslate2"):
        cfg = build_config({"lang": "sw", "cache": {"enabled": False},
                            "model": {"backend": be, "id": str(model_dir),
                                      **({"ct2_quantization": "float32",
                                          "ct2_dir": str(tmp_path / "ct2")}
                                         if be == "ctranslate2" else {}), **model}})
        out.append(make_translator(cfg))
    return out


@pytest.mark.parametrize("fixture", ["tiny_nllb", "tiny_marian"])
@pytest.mark.parametrize("beam", [1, 3])
def test_same_output_as_transformers(request, tmp_path, fixture, beam):
    hf, ct = _pair(request.getfixturevalue(fixture), tmp_path)
    d = Decoding(beam_size=beam, max_new_tokens=12)
    assert ct.translate(TEXTS, "en", "sw", d) == hf.translate(TEXTS, "en", "sw", d)
    lp_hf, lp_ct = hf.logprob(TEXTS, ["watoto", "habari", "sentensi ndefu"], "en", "sw"), \
        ct.logprob(TEXTS, ["watoto", "habari", "sentensi ndefu"], "en", "sw")
    assert lp_ct == pytest.approx(lp_hf, abs=0.05)


def test_m2m100_differs_only_in_unknown_tokens(tiny_m2m100, tmp_path):
    """Documented difference: random weights emit ids transformers decodes as <unk>."""
    hf, ct = _pair(tiny_m2m100, tmp_path)
    d = Decoding(beam_size=2, max_new_tokens=10)
    a = [h[0].replace("<unk>", "") for h in hf.translate(TEXTS, "en", "sw", d)]
    b = [h[0].replace("<unk>", "") for h in ct.translate(TEXTS, "en", "sw", d)]
    assert a == b


def test_conversion_is_cached_and_int8_by_default_on_cpu(tiny_nllb, tmp_path):
    cfg = build_config({"lang": "sw", "cache": {"enabled": False},
                        "model": {"backend": "ctranslate2", "id": str(tiny_nllb),
                                  "ct2_dir": str(tmp_path / "ct2")}})
    tr = make_translator(cfg)
    tr.translate(TEXTS[:1], "en", "sw", Decoding(beam_size=1, max_new_tokens=4))
    assert tr.quantization == "int8"
    (conv,) = list((tmp_path / "ct2").iterdir())
    stamp = (conv / "model.bin").stat().st_mtime_ns
    tr2 = make_translator(cfg)
    tr2.translate(TEXTS[:1], "en", "sw", Decoding(beam_size=1, max_new_tokens=4))
    assert (conv / "model.bin").stat().st_mtime_ns == stamp  # reused, not converted again
    assert not [p for p in (tmp_path / "ct2").iterdir() if p.name.startswith(".")]


def test_sampling_gives_n_hypotheses(tiny_nllb, tmp_path):
    """Documented limit: CTranslate2's set_random_seed does not make sampling reproducible
    (OpenNMT/CTranslate2#1757), so only the shape is asserted here."""
    _, ct = _pair(tiny_nllb, tmp_path)
    d = Decoding(sampling=True, beam_size=1, max_new_tokens=8)
    got = ct.translate(TEXTS, "en", "sw", d, n=3, seed=5)
    assert [len(h) for h in got] == [3, 3, 3]
    # it samples: not n copies of the greedy output (fails if sampling were ignored)
    greedy = [h[0] for h in ct.translate(TEXTS, "en", "sw", Decoding(beam_size=1,
                                                                     max_new_tokens=8))]
    assert any(len(set(h)) > 1 or h[0] != g for h, g in zip(got, greedy))


def test_a_run_on_the_ctranslate2_backend(tiny_nllb, sw_corpus, tmp_path):
    from click.testing import CliRunner

    from test_run import _config
    from translate_synth.cli import main

    cfg = _config(tmp_path, tiny_nllb, sw_corpus)
    res = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(tmp_path / "o"),
                                    "--backend", "ctranslate2", "--no-report",
                                    "--set", f"model.ct2_dir={tmp_path / 'ct2'}"])
    assert res.exit_code == 0, res.output
    import json

    run = tmp_path / "o" / "sw"
    man = json.loads((run / "manifest.json").read_text())
    st = json.loads((run / "stats.json").read_text())
    assert man["model"]["backend"] == "ctranslate2"
    assert st["model_sentences_translated"] > 0
    assert [p for p in (tmp_path / "ct2").iterdir() if (p / "model.bin").is_file()]  # converted
    rows = [json.loads(x) for x in (run / "candidates.jsonl").read_text().splitlines()]
    assert len(rows) == sum(v["rows"] for v in st["synthesis"].values()) > 0
    assert all("rt_chrf" in r["scores"] and r["roundtrip"] is not None for r in rows)

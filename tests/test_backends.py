"""Backends: language codes per model family on tiny models, the real bergamot model, errors."""

import pytest

from translate_synth.backends import make_translator
from translate_synth.backends.hf import TransformersTranslator
from translate_synth.config import Decoding, build_config
from translate_synth.errors import UserError

GREEDY = Decoding(beam_size=1, max_new_tokens=8, batch_size=4)
TEXTS = ["the child reads a book", "my mother", "the farmer sells fish today"]


def _tr(model_dir, **model):
    cfg = build_config({"lang": "sw", "model": {"backend": "transformers", "id": str(model_dir),
                                                **model}})
    return make_translator(cfg, use_cache=False)  # the backend itself, not the cache around it


def _first_generated_ids(tr, src, tgt, text):
    """The token ids the model generates for one text, as the backend sets it up."""
    import torch

    tok, model, prefix, gen = tr.setup(src, tgt)
    enc = tok([prefix + text], return_tensors="pt")
    with torch.inference_mode():
        return enc["input_ids"][0].tolist(), model.generate(**enc, **gen, max_new_tokens=4,
                                                             do_sample=False)[0].tolist(), tok


def test_nllb_codes_src_lang_and_forced_bos(tiny_nllb):
    tr = _tr(tiny_nllb)
    ids, out, tok = _first_generated_ids(tr, "en", "sw", "the child")
    assert tr.family(str(tiny_nllb)) == "nllb"
    assert ids[0] == tok.convert_tokens_to_ids("eng_Latn")  # source code first
    assert out[1] == tok.convert_tokens_to_ids("swh_Latn")  # target code forced
    _, back, _ = _first_generated_ids(tr, "sw", "en", "mtoto")
    assert back[1] == tok.convert_tokens_to_ids("eng_Latn")


def test_m2m100_codes_via_get_lang_id(tiny_m2m100):
    tr = _tr(tiny_m2m100)
    ids, out, tok = _first_generated_ids(tr, "en", "sw", "the child")
    assert tr.family(str(tiny_m2m100)) == "m2m100"
    assert ids[0] == tok.get_lang_id("en") and out[1] == tok.get_lang_id("sw")


def test_marian_one_model_per_direction_and_target_token(tiny_marian):
    tr = _tr(tiny_marian, id=None, ids={"en-sw": str(tiny_marian), "sw-en": str(tiny_marian)})
    assert tr.model_id("en", "sw") == str(tiny_marian)
    _, _, prefix, gen = tr.setup("en", "sw")
    assert prefix == "" and gen == {}
    tr2 = _tr(tiny_marian, target_token=True)
    assert tr2.setup("en", "sw")[2] == ">>swh<< "
    with pytest.raises(UserError, match="no model for en-fr"):
        _tr(tiny_marian, id=None, ids={"en-sw": str(tiny_marian)}).model_id("en", "fr")


def test_mbart50_codes_src_lang_and_forced_bos(tiny_mbart50):
    tr = _tr(tiny_mbart50)
    ids, out, tok = _first_generated_ids(tr, "en", "sw", "the child")
    assert tr.family(str(tiny_mbart50)) == "mbart50"
    assert ids[0] == tok.convert_tokens_to_ids("en_XX")  # source code first
    assert out[1] == tok.convert_tokens_to_ids("sw_KE")  # target code forced
    ids, back, _ = _first_generated_ids(tr, "sw", "en", "mtoto")
    assert ids[0] == tok.convert_tokens_to_ids("sw_KE")
    assert back[1] == tok.convert_tokens_to_ids("en_XX")
    cfg = build_config({"lang": "qu", "model": {"id": str(tiny_mbart50)}})
    with pytest.raises(UserError, match="mbart50 model family does not support language 'qu'"):
        TransformersTranslator(cfg).check("en", "qu", GREEDY)


def test_madlad_t5_target_tag_prefixed_to_the_input(tiny_t5):
    tr = _tr(tiny_t5)
    ids, _, tok = _first_generated_ids(tr, "en", "sw", "the child")
    assert tr.family(str(tiny_t5)) == "madlad"
    assert tr.setup("en", "sw")[2] == "<2sw> "
    assert ids[0] == tok.convert_tokens_to_ids("<2sw>")  # one token, not "< 2 s w >"
    ids, _, _ = _first_generated_ids(tr, "sw", "en", "mtoto")
    assert ids[0] == tok.convert_tokens_to_ids("<2en>")
    cfg = build_config({"lang": "xx", "codes": {"madlad": "xx"}, "model": {"id": str(tiny_t5)}})
    with pytest.raises(UserError, match="does not know the madlad language tag '<2xx>'"):
        TransformersTranslator(cfg).check("en", "xx", GREEDY)


@pytest.mark.parametrize("fixture", ["tiny_nllb", "tiny_m2m100", "tiny_marian", "tiny_mbart50",
                                     "tiny_t5"])
def test_translate_batches_keep_order_and_count(fixture, request):
    tr = _tr(request.getfixturevalue(fixture))
    out = tr.translate(TEXTS, "en", "sw", GREEDY)
    assert len(out) == 3 and all(len(h) == 1 and isinstance(h[0], str) for h in out)
    # length-sorted batching must not reorder: each text alone gives the same output
    singles = [tr.translate([t], "en", "sw", GREEDY)[0] for t in TEXTS]
    assert out == singles
    assert tr.sentences_translated == 6
    assert not any(tag in h[0] for h in out for tag in ("__sw__", "swh_Latn", "sw_KE", "<2"))


def test_sampling_gives_n_seeded_variants(tiny_nllb):
    tr = _tr(tiny_nllb)
    dec = Decoding(sampling=True, beam_size=1, max_new_tokens=8, temperature=1.5)
    a = tr.translate(TEXTS, "en", "sw", dec, n=3, seed=7)
    b = tr.translate(TEXTS, "en", "sw", dec, n=3, seed=7)
    assert a == b and all(len(h) == 3 for h in a)
    assert len({v for h in a for v in h}) > 3  # samples differ


def test_language_the_model_does_not_know(tiny_nllb):
    cfg = build_config({"lang": "xx", "codes": {"nllb": "xxx_Latn"},
                        "model": {"id": str(tiny_nllb)}})
    with pytest.raises(UserError, match="does not know the nllb language code 'xxx_Latn'"):
        TransformersTranslator(cfg).check("en", "xx", GREEDY)


def test_missing_model_path_and_offline_hub_id(tmp_path):
    with pytest.raises(UserError, match="model path .* does not exist"):
        _tr(tmp_path / "nope").check("en", "sw", GREEDY)
    with pytest.raises(UserError, match=r"'nobody/no-such-model' is not available offline.*--model"):
        _tr("nobody/no-such-model").check("en", "sw", GREEDY)


def test_cuda_requested_without_a_gpu_is_a_clear_error(tiny_nllb):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the CPU fallback message is not reachable")
    with pytest.raises(UserError, match="no CUDA device"):
        _tr(tiny_nllb, device="cuda")
    assert _tr(tiny_nllb).device == "cpu"  # device auto picks CPU here


def test_bergamot_translates_real_portuguese():
    import py3langid

    cfg = build_config({"lang": "pt", "model": {"backend": "bergamot"}})
    tr = make_translator(cfg)
    src = ["The children are playing in the garden.", "Everyone has the right to life."]
    pt = [h[0] for h in tr.translate(src, "en", "pt", GREEDY)]
    assert all(py3langid.classify(t)[0] == "pt" for t in pt), pt
    back = [h[0] for h in tr.translate(pt, "pt", "en", GREEDY)]
    assert all(py3langid.classify(t)[0] == "en" for t in back), back
    with pytest.raises(UserError, match="greedily only"):
        tr.check("en", "pt", Decoding(sampling=True))
    with pytest.raises(UserError, match="no en-sw model"):
        tr.check("en", "sw", GREEDY)

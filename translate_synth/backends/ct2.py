"""The CTranslate2 backend: the same models as the transformers backend, converted once, faster.

A transformers model (hub id or local directory) is converted with CTranslate2's converter into
``<cache>/ct2/<model>-<hash of id, revision, quantisation>/`` (written to a temporary directory,
then renamed: a killed conversion never leaves half a model), and reused by every later run.
Quantisation ``auto`` is int8 on CPU and float16 on CUDA. Language codes work as in the
transformers backend (the tokenizer sets the source code; NLLB/M2M100/mBART get the target code
as ``target_prefix``; MADLAD and multi-target Marian a text prefix). Batches are bucketed by
token count (CTranslate2's ``batch_type="tokens"``). Sampling (paraphrases) uses
``beam_size=1`` and ``num_hypotheses=n``; it is seeded per row, but CTranslate2's seed does not
make sampling reproducible (OpenNMT/CTranslate2#1757): runs that sample paraphrases are
byte-reproducible with the transformers backend only. Greedy and beam search are deterministic.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from translate_synth.backends.hf import TransformersTranslator, clean_output, detect_family
from translate_synth.config import Decoding
from translate_synth.errors import UserError
from translate_synth.text import digest, stable_int


def ct2_device(device: str) -> tuple[str, int]:
    """(CTranslate2 device, device_index): ``cuda:1`` is ("cuda", 1), the second GPU."""
    import ctranslate2

    if device == "auto":
        return ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"), 0
    if not device.startswith("cuda"):
        return device, 0
    count = ctranslate2.get_cuda_device_count()
    if count == 0:
        raise UserError(f"model.device={device} but CTranslate2 sees no CUDA device; use auto "
                        "or cpu")
    index = int(device.partition(":")[2] or 0)
    if index >= count:
        raise UserError(f"model.device={device} but CTranslate2 sees {count} CUDA device(s) "
                        f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''}); pick one of "
                        "them")
    return "cuda", index


def _converter_class():
    import ctranslate2

    class Converter(ctranslate2.converters.TransformersConverter):
        def load_model(self, model_class, model_name_or_path, **kwargs):
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            # CTranslate2 4.8 scales T5 logits by d_model**-0.5 iff config.tie_word_embeddings,
            # which transformers 5.x always sets; the scaling transformers applies is
            # config.scale_decoder_outputs (False for MADLAD-400 / T5 v1.1): without this the
            # converted model scores (logprob) differently, with no error
            if getattr(model.config, "scale_decoder_outputs", None) is False:
                model.config.tie_word_embeddings = False
            return model

    return Converter


def convert(model_id: str, revision: str | None, quantization: str, root: Path,
            trust_remote_code: bool = False, family: str | None = None) -> Path:
    """The converted model directory, converting once (atomically) when it is not there."""
    name = Path(model_id.rstrip("/")).name or "model"
    stamp = model_id
    if os.path.isdir(model_id):  # a local model changed on disk converts again
        files = sorted(Path(model_id).iterdir())
        stamp += "|" + "|".join(f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}"
                                for f in files if f.is_file())
    # MADLAD/T5 conversions made before the logit-scale fix (_converter_class) are not reused
    extra = ("t5-scale-fixed",) if family == "madlad" else ()
    out = Path(root) / f"{name}-{digest(stamp, str(revision), quantization, *extra)}"
    if (out / "model.bin").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        conv = _converter_class()(
            model_id, revision=revision, trust_remote_code=trust_remote_code,
            load_as_float16=quantization in ("float16", "int8_float16"))
        conv.convert(str(tmp), quantization=None if quantization == "float32" else quantization,
                     force=True)
        try:
            os.replace(tmp, out)
        except OSError:  # another process converted it meanwhile
            if not (out / "model.bin").exists():
                raise
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"cannot convert {model_id} for CTranslate2 ({type(e).__name__}: "
                        f"{str(e).splitlines()[0][:160]}); use --backend transformers") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


HF_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
              "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model",
                   "source.spm", "spiece.model", "vocab.json")


def is_converted_dir(path: Path) -> bool:
    """A directory CTranslate2 converted: ``model.bin``, no transformers weights and no
    transformers config."""
    return path.is_dir() and (path / "model.bin").is_file() and not any(
        (path / f).exists() for f in HF_WEIGHTS) and not _hf_config(path)


def _hf_config(path: Path) -> bool:
    """True when ``path/config.json`` is a transformers config (CTranslate2 writes its own
    config.json, without ``model_type``)."""
    try:
        return "model_type" in json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError, TypeError):
        return False


def _family_from_tokenizer(tok, mid) -> str:
    name = type(tok).__name__.lower()
    for key, fam in (("nllb", "nllb"), ("m2m100", "m2m100"), ("mbart50", "mbart50"),
                     ("mbart", "mbart50"), ("marian", "marian"), ("t5", "madlad")):
        if key in name:
            return fam
    raise UserError(f"{mid}: cannot tell the language-code scheme from a {type(tok).__name__}: "
                    "--set model.family=nllb (or m2m100, mbart50, madlad, marian), or give "
                    "--tokenizer the transformers model it was converted from")


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0][:160] if str(e) else ""


class CT2Translator(TransformersTranslator):
    """The transformers model ``model.id`` converted for CTranslate2 (once, cached); or, with
    ``converted``, ``model.id`` is a directory CTranslate2 already converted, used as it is.

    A converted directory's tokenizer comes from the directory (when it holds tokenizer files)
    or from ``tokenizer`` (the transformers model it was converted from, a directory or hub
    id); its language-code family from ``model.family``, else from that model's config, else
    from the tokenizer's class; quantisation ``auto`` is the type it was saved in."""

    name = "ctranslate2"

    def __init__(self, cfg, converted: bool = False, tokenizer: str | None = None):
        super().__init__(cfg)
        q = self.mcfg.ct2_quantization
        self.quantization = q if q != "auto" else ("float16" if self.device == "cuda" else "int8")
        from translate_synth.cache import default_dir

        self.root = Path(self.mcfg.ct2_dir) if self.mcfg.ct2_dir else default_dir() / "ct2"
        self.converted = converted
        self.tokenizer_src: str | None = None
        if converted:
            mid = cfg.model.id
            if tokenizer:
                self.tokenizer_src = tokenizer
            elif any((Path(mid) / f).exists() for f in TOKENIZER_FILES):
                self.tokenizer_src = str(mid)
            else:
                raise UserError(f"{mid}: a CTranslate2 model without tokenizer files: give "
                                "--tokenizer PATH_OR_ID (the transformers model it was "
                                "converted from)")
            if q == "auto":
                self.quantization = "default"  # the type it was saved in

    def choose_device(self) -> str:
        # CTranslate2's own CUDA, not torch's (a CPU torch beside a CUDA CTranslate2 is fine)
        device, self.device_index = ct2_device(self.mcfg.device)
        return device

    def load(self, mid: str):
        if mid in self.loaded:
            return self.loaded[mid]
        if self.converted:
            tok, fam = self._open_converted(mid)
            path = Path(mid)
        else:
            from translate_synth.backends.hf import load_model

            tok, model = load_model(mid, self.mcfg.revision, self.mcfg.trust_remote_code)
            fam = self.mcfg.family if self.mcfg.family != "auto" else detect_family(model, tok)
            self._max_pos = getattr(model.config, "max_position_embeddings", None) or 1024
            gc = getattr(model, "generation_config", None)
            self._forces_eos = getattr(gc, "forced_eos_token_id", None) is not None
            del model  # conversion reads the checkpoint itself; keep only the tokenizer
            path = convert(mid, self.mcfg.revision, self.quantization, self.root,
                           self.mcfg.trust_remote_code, fam)
        self.loaded[mid] = (tok, self._translator(path, mid))
        self.families[mid] = fam
        self._paths = {mid: str(mid)} if self.converted else \
            {**getattr(self, "_paths", {}), mid: str(path)}
        return self.loaded[mid]

    def _translator(self, path: Path, mid: str):
        import ctranslate2

        kw = dict(device=self.device, device_index=self.device_index,
                  compute_type=self.quantization, inter_threads=1,
                  intra_threads=os.cpu_count() or 1)
        if not self.converted:
            return ctranslate2.Translator(str(path), **kw)
        try:
            return ctranslate2.Translator(str(mid), **kw)
        except Exception as e:
            raise UserError(f"{mid}: CTranslate2 cannot load it ({type(e).__name__}: "
                            f"{_first_line(e)})") from None

    def _open_converted(self, mid: str):
        """(tokenizer, family) of a converted directory; sets its length limit and EOS rule."""
        import transformers
        from transformers import AutoConfig, AutoTokenizer, GenerationConfig

        transformers.utils.logging.set_verbosity_error()
        src = self.tokenizer_src
        local = dict(local_files_only=True) if not Path(src).exists() else {}
        try:
            tok = AutoTokenizer.from_pretrained(src, **local)
        except Exception as e:
            raise UserError(f"tokenizer {src}: cannot load it ({type(e).__name__}: "
                            f"{_first_line(e)}); give --tokenizer the transformers model the "
                            "CTranslate2 model was converted from") from None
        hf = None
        if not Path(src).exists() or _hf_config(Path(src)):
            try:
                hf = AutoConfig.from_pretrained(src, **local)
            except Exception:
                hf = None
        fam = self.mcfg.family
        if fam == "auto":
            fam = detect_family(type("M", (), {"config": hf})(), tok) if hf is not None \
                else _family_from_tokenizer(tok, mid)
        self._max_pos = getattr(hf, "max_position_embeddings", None) or min(
            getattr(tok, "model_max_length", 1024) or 1024, 1024)
        try:
            gc = GenerationConfig.from_pretrained(src, **local)
            self._forces_eos = getattr(gc, "forced_eos_token_id", None) is not None
        except Exception:
            self._forces_eos = False
        return tok, fam

    def _prefix_token(self, tok, gen) -> list[str] | None:
        forced = gen.get("forced_bos_token_id")
        return [tok.convert_ids_to_tokens(forced)] if forced is not None else None

    def translate(self, texts, src, tgt, decoding: Decoding, n=1, seed=0):
        import ctranslate2

        if not texts:
            return []
        tok, ct, prefix, gen = self.setup(src, tgt)
        fam = self.family(self.model_id(src, tgt))
        target_prefix = self._prefix_token(tok, gen)
        sources = [tok.convert_ids_to_tokens(tok.encode(prefix + t, truncation=True,
                                                        max_length=self._max_pos))
                   for t in texts]
        # transformers counts the forced language token and the EOS forced at the length limit
        # in max_new_tokens; CTranslate2 counts the prefix but forces no EOS: one less here
        # gives the same visible tokens
        max_len = min(max(1, decoding.max_new_tokens - (1 if self._forces_eos else 0)),
                      self._max_pos)
        kw = dict(max_decoding_length=max_len, num_hypotheses=n, return_scores=False,
                  min_decoding_length=min(decoding.min_new_tokens, max_len),
                  max_batch_size=decoding.max_tokens, batch_type="tokens")
        if decoding.sampling:
            kw.update(beam_size=1, sampling_topk=decoding.top_k or 0,
                      sampling_topp=decoding.top_p, sampling_temperature=decoding.temperature)
        else:
            kw.update(beam_size=max(decoding.beam_size, n))
        out: list[list[str]] = []
        if decoding.sampling:  # per-row seeds: samples never depend on the batch
            results = []
            for text, s in zip(texts, sources):
                ctranslate2.set_random_seed(stable_int(seed, src, tgt, prefix + text) % (2**31))
                results += ct.translate_batch([s], target_prefix=[target_prefix]
                                              if target_prefix else None, **kw)
        else:
            results = ct.translate_batch(sources, target_prefix=[target_prefix] * len(sources)
                                         if target_prefix else None, **kw)
        for res in results:
            hyps = []
            for h in res.hypotheses[:n]:
                if target_prefix and h[:1] == target_prefix:
                    h = h[1:]
                text = tok.decode(tok.convert_tokens_to_ids(h), skip_special_tokens=True)
                hyps.append(clean_output(text, fam))
            out.append(hyps)
        self.sentences_translated += len(texts)
        return out

    def logprob(self, sources, targets, src, tgt, batch_size=16):
        """Mean token log-probability of each target (CTranslate2 ``score_batch``)."""
        if not sources:
            return []
        tok, ct, prefix, gen = self.setup(src, tgt)
        target_prefix = self._prefix_token(tok, gen)
        mid = self.model_id(src, tgt)
        fam = self.family(mid)
        if fam in ("nllb", "m2m100", "mbart50"):
            tok.tgt_lang = self.lang_code(tgt, fam)
        src_tok = [tok.convert_ids_to_tokens(tok.encode(prefix + s, truncation=True,
                                                        max_length=self._max_pos))
                   for s in sources]
        tgt_tok = []
        for t in targets:
            ids = tok(text_target=t, truncation=True, max_length=self._max_pos)["input_ids"]
            toks = tok.convert_ids_to_tokens(ids)
            if target_prefix and toks[:1] != target_prefix:
                toks = target_prefix + toks
            if toks[-1:] == [tok.eos_token]:  # score_batch appends </s> itself: score it once
                toks = toks[:-1]
            tgt_tok.append(toks)
        res = ct.score_batch(src_tok, tgt_tok, max_batch_size=batch_size)
        out = []
        for toks, r in zip(tgt_tok, res):
            lp = list(r.log_probs)
            if target_prefix and toks[:1] == target_prefix:
                lp = lp[1:]  # the forced language token is given, not predicted
            out.append(round(sum(lp) / max(1, len(lp)), 4))
        self.sentences_scored += len(sources)
        return out

    def describe(self):
        device = f"cuda:{self.device_index}" if self.device == "cuda" else self.device
        return {**super().describe(), "backend": self.name, "device": device,
                "quantization": self.quantization,
                "converted": getattr(self, "_paths", {})}

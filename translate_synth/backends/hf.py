"""The transformers backend: any seq2seq translation model (NLLB, M2M100, Marian, mBART-50, MADLAD).

Language codes per family (see ``langs.py``): NLLB and mBART-50 set ``tokenizer.src_lang`` and force
the target code as first token; M2M100 the same through ``get_lang_id``; MADLAD/T5 prefixes
``<2xx>``; Marian uses one model per direction (``model.ids``) or a ``>>xxx<<`` prefix.
Uses CUDA when present (``device: auto``), bfloat16 there when the GPU has it, else float16
(float32 for T5-family models: ``precision.py``); float32 on CPU.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from translate_synth.translator import Translator
from translate_synth.backends.batching import token_batches
from translate_synth.backends.modelref import (check_model_path, looks_like_path,
                                               no_model_message)
from translate_synth.config import Config, Decoding
from translate_synth.errors import UserError
from translate_synth.langs import family_code
from translate_synth.text import stable_int

_M2M_TAG = re.compile(r"__[a-z]{2,3}__\s*")
_MADLAD_TAG = re.compile(r"<2[A-Za-z_-]{2,12}>\s*")  # skip_special_tokens keeps these


def clean_output(text: str, family: str) -> str:
    """Decoded text without the language tags a decoder may emit and the tokenizer keeps."""
    text = _M2M_TAG.sub("", text)
    if family == "madlad":
        text = _MADLAD_TAG.sub("", text)
    return text.strip()


def pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"model.device={device} but no CUDA device is visible; use auto or cpu")
    return device


def load_model(model_id: str, revision: str | None, trust_remote_code: bool):
    """(tokenizer, model) from a local directory or a hub id; a clear line when unavailable."""
    import transformers
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    kw = dict(revision=revision, trust_remote_code=trust_remote_code)
    local = Path(os.path.expanduser(model_id))
    if looks_like_path(model_id):
        check_model_path(model_id)
        try:
            return (AutoTokenizer.from_pretrained(str(local), **kw),
                    AutoModelForSeq2SeqLM.from_pretrained(str(local), **kw))
        except Exception as e:
            raise UserError(f"model path {model_id}: cannot load a seq2seq model "
                            f"({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    try:  # the local cache first: no network at all when the model is there
        return (AutoTokenizer.from_pretrained(model_id, local_files_only=True, **kw),
                AutoModelForSeq2SeqLM.from_pretrained(model_id, local_files_only=True, **kw))
    except Exception:
        pass
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    how = (f"model '{model_id}' is not available offline: run once with network access to cache "
           "it (e.g. `translate-synth run ...` online, or `hf download " + model_id + "`), or pass "
           "--model /path/to/local/model")
    if offline:
        raise UserError(how + " (HF_HUB_OFFLINE is set)")
    probe_hub(model_id, revision, how)  # one quick request: no minute of retries when offline
    try:
        return (AutoTokenizer.from_pretrained(model_id, **kw),
                AutoModelForSeq2SeqLM.from_pretrained(model_id, **kw))
    except Exception:
        raise UserError(how) from None


HUB_PROBE_TIMEOUT = 3.0  # seconds for the one request that tells whether the hub answers


def probe_hub(model_id: str, revision: str | None, how: str) -> None:
    """Ask the hub once, without retries, for the model's config.json, before from_pretrained.

    The model is not in the local cache (checked first). huggingface_hub 2.4 retries a failed
    download 5 times with backoff (1+2+4+8+8 s, ``_http_backoff_base``; not settable by an
    environment variable), and transformers asks for the tokenizer and the model apart: about
    50 s of ``Retrying in Ns`` lines when the hub is unreachable. One HEAD request
    (``get_hf_file_metadata``, which does not retry; proxies and HF_ENDPOINT as the download's)
    with a short timeout fails at once instead. A missing or gated repository is a clear line
    too; anything else is left to from_pretrained.
    """
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, HFValidationError,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    try:
        url = hf_hub_url(model_id, "config.json", revision=revision)
    except HFValidationError:
        raise UserError(f"model '{model_id}' is neither a local directory nor a hub id "
                        "(org/name); pass --model /path/to/local/model or a hub id") from None
    try:
        get_hf_file_metadata(url, timeout=HUB_PROBE_TIMEOUT)
    except GatedRepoError:
        raise UserError(f"model '{model_id}' is gated on the hub: accept its terms on the model "
                        "page and log in (`hf auth login`), or pass --model "
                        "/path/to/local/model") from None
    except RepositoryNotFoundError:
        raise UserError(f"no model '{model_id}' on the hub ({constants.ENDPOINT}), or it is "
                        "private (`hf auth login`): check the id, or pass --model "
                        "/path/to/local/model") from None
    except RevisionNotFoundError:
        raise UserError(f"model '{model_id}' has no revision '{revision}' on the hub: fix "
                        "model.revision") from None
    except HfHubHTTPError:  # the hub answered: let from_pretrained deal with it
        pass
    except Exception as e:  # noqa: BLE001 - connection refused, timeout, DNS, proxy...
        if isinstance(e, OSError) or type(e).__module__.split(".")[0] in ("httpx", "httpx2"):
            reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise UserError(f"{how} (the hub at {constants.ENDPOINT} cannot be reached: "
                            f"{reason})") from None


def _lang_token_id(tok, family: str, code: str) -> int | None:
    """The id of a language token, or None when the tokenizer does not know it (never <unk>)."""
    try:
        i = tok.get_lang_id(code) if family == "m2m100" else tok.convert_tokens_to_ids(code)
    except (KeyError, ValueError):
        return None
    return None if i is None or i == tok.unk_token_id else i


def detect_family(model, tokenizer) -> str:
    mtype = getattr(model.config, "model_type", "")
    tname = type(tokenizer).__name__.lower()
    if mtype == "m2m_100":
        return "nllb" if "nllb" in tname else "m2m100"
    if mtype == "marian":
        return "marian"
    if mtype in ("mbart", "mbart50"):
        return "mbart50"
    if mtype in ("t5", "mt5", "umt5"):
        return "madlad"
    raise UserError(f"cannot tell the language-code scheme of a '{mtype}' model: set model.family "
                    "to nllb, m2m100, mbart50, madlad or marian")


class TransformersTranslator(Translator):
    name = "transformers"

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.mcfg = cfg.model
        if not self.mcfg.id and not any(self.mcfg.ids.values()):
            s, t = cfg.source_lang, cfg.lang
            raise UserError(no_model_message(self.name, s, t))
        self.device = self.choose_device()
        self.loaded: dict[str, tuple] = {}  # model id -> (tokenizer, model), by load()
        self.families: dict[str, str] = {}  # model id -> language-code family
        self.dtypes: dict[str, str] = {}  # model id -> the dtype it runs in (precision.py)

    def choose_device(self) -> str:
        """The torch device this backend runs on (a hook: CTranslate2 chooses its own)."""
        return pick_device(self.mcfg.device)

    def family(self, mid: str) -> str:
        """The language-code family of a loaded model (``nllb``, ``marian``...)."""
        return self.families[mid]

    # ------------------------------------------------------------ models and codes
    def model_id(self, src: str, tgt: str) -> str:
        mid = self.mcfg.ids.get(f"{src}-{tgt}") or self.mcfg.id
        if not mid:
            raise UserError(f"no model for {src}-{tgt}: give --model ID_OR_PATH (one model for "
                            f"every direction), or set model.id, or model.ids.{src}-{tgt}")
        return mid

    def load(self, mid: str):
        """The (tokenizer, model) of model ``mid``, loaded once (a hook: CTranslate2 loads its
        converted model here)."""
        if mid not in self.loaded:
            import torch

            from translate_synth.precision import inference_dtype

            tok, model = load_model(mid, self.mcfg.revision, self.mcfg.trust_remote_code)
            fam = self.mcfg.family if self.mcfg.family != "auto" else detect_family(model, tok)
            cuda = self.device.startswith("cuda")
            dtype = inference_dtype(self.mcfg.dtype, self.device,
                                    getattr(model.config, "model_type", None),
                                    cuda and torch.cuda.is_bf16_supported(), fam)
            self.dtypes[mid] = dtype
            model = model.to(device=self.device, dtype=getattr(torch, dtype)).eval()
            self.loaded[mid] = (tok, model)
            self.families[mid] = fam
        return self.loaded[mid]

    def lang_code(self, lang: str, family: str) -> str:
        """The model's code for ``lang`` in ``family``'s scheme (the config's ``codes`` first)."""
        over = self.cfg.codes if lang == self.cfg.lang else (
            self.cfg.source_codes if lang == self.cfg.source_lang else {})
        return family_code(lang, family, over)

    def setup(self, src: str, tgt: str):
        """(tokenizer, model, text prefix, generate kwargs) for one direction."""
        mid = self.model_id(src, tgt)
        tok, model = self.load(mid)
        fam = self.families[mid]
        prefix, gen = "", {}
        if fam in ("nllb", "m2m100", "mbart50"):
            s, t = self.lang_code(src, fam), self.lang_code(tgt, fam)
            for code in (s, t):
                if _lang_token_id(tok, fam, code) is None:
                    raise UserError(f"model {mid} does not know the {fam} language code '{code}': "
                                    f"it does not support this language, or set codes.{fam}")
            gen["forced_bos_token_id"] = _lang_token_id(tok, fam, t)
            tok.src_lang = s
        elif fam == "madlad":
            tag = f"<2{self.lang_code(tgt, fam)}>"
            if _lang_token_id(tok, fam, tag) is None:  # else split into pieces, silently
                raise UserError(f"model {mid} does not know the madlad language tag '{tag}': "
                                "it does not support this language, or set codes.madlad")
            prefix = tag + " "
        elif fam == "marian" and self.mcfg.target_token:
            prefix = f">>{self.lang_code(tgt, fam)}<< "
        return tok, model, prefix, gen

    def check(self, src, tgt, decoding, n=1):
        super().check(src, tgt, decoding, n)
        self.setup(src, tgt)

    # ------------------------------------------------------------ generation
    def _gen_kwargs(self, decoding: Decoding, n: int, max_len: int) -> dict:
        kw = dict(max_new_tokens=min(decoding.max_new_tokens, max_len), num_return_sequences=n)
        if decoding.min_new_tokens:
            kw["min_new_tokens"] = min(decoding.min_new_tokens, kw["max_new_tokens"])
        if decoding.sampling:
            kw.update(do_sample=True, num_beams=1, temperature=decoding.temperature,
                      top_p=decoding.top_p, top_k=decoding.top_k or None)
        else:
            kw.update(do_sample=False, num_beams=max(decoding.beam_size, n))
        return kw

    def translate(self, texts, src, tgt, decoding: Decoding, n=1, seed=0):
        import torch

        if not texts:
            return []
        tok, model, prefix, gen = self.setup(src, tgt)
        fam = self.family(self.model_id(src, tgt))
        max_pos = getattr(model.config, "max_position_embeddings", None) or 1024
        max_in = min(getattr(tok, "model_max_length", max_pos) or max_pos, max_pos)
        kw = {**gen, **self._gen_kwargs(decoding, n, max_pos)}
        out: list[list[str] | None] = [None] * len(texts)
        # sampling is seeded per row (seed, direction, text) and decodes one row at a time, so a
        # row's samples never depend on the batch it happens to share or on a resume
        lengths = [len(ids) for ids in tok([prefix + t for t in texts], truncation=True,
                                           max_length=max_in)["input_ids"]]
        batches = token_batches(lengths, 1 if decoding.sampling else decoding.batch_size,
                                decoding.max_tokens)
        for idx in batches:
            batch = [prefix + texts[i] for i in idx]
            enc = tok(batch, return_tensors="pt", padding=True, truncation=True,
                      max_length=max_in).to(self.device)
            if decoding.sampling:
                torch.manual_seed(stable_int(seed, src, tgt, batch[0]))
            with torch.inference_mode():
                ids = model.generate(**enc, **kw)
            dec = tok.batch_decode(ids, skip_special_tokens=True)
            for j, i in enumerate(idx):
                out[i] = [clean_output(d, fam) for d in dec[j * n:(j + 1) * n]]
        self.sentences_translated += len(texts)
        return out

    def logprob(self, sources, targets, src, tgt, batch_size=16):
        """Mean log-probability per target token under teacher forcing, the forced target
        language token excluded (it is given, not predicted)."""
        import torch

        if not sources:
            return []
        tok, model, prefix, gen = self.setup(src, tgt)
        forced = gen.get("forced_bos_token_id")
        mid = self.model_id(src, tgt)
        fam = self.family(mid)
        if fam in ("nllb", "m2m100", "mbart50"):
            tok.tgt_lang = self.lang_code(tgt, fam)
        max_pos = getattr(model.config, "max_position_embeddings", None) or 1024
        pad = tok.pad_token_id
        out: list[float | None] = [None] * len(sources)
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]) + len(targets[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            enc = tok([prefix + sources[i] for i in idx], text_target=[targets[i] for i in idx],
                      return_tensors="pt", padding=True, truncation=True,
                      max_length=max_pos).to(self.device)
            labels = enc.pop("labels")
            labels = labels.masked_fill(labels == pad, -100)
            with torch.inference_mode():
                logits = model(**enc, labels=labels).logits.float()
            lp = torch.log_softmax(logits, dim=-1)
            mask = labels != -100
            if forced is not None:
                mask &= labels != forced
            tok_lp = lp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
            means = tok_lp.sum(-1) / mask.sum(-1).clamp(min=1)
            for j, i in enumerate(idx):
                out[i] = round(float(means[j]), 4)
        self.sentences_scored += len(sources)
        return out

    def describe(self):
        fams = {mid: self.families.get(mid) for mid in self.loaded}
        return {"backend": self.name, "model": self.mcfg.id, "ids": dict(self.mcfg.ids),
                "revision": self.mcfg.revision, "family": fams or self.mcfg.family,
                "device": self.device, "dtype": self.mcfg.dtype,
                "dtype_used": dict(self.dtypes)}

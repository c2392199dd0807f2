"""The model an evaluation translates with: what kind it is, the config it runs under (the run's,
with the model replaced) and its translator. Used by ``evaluate``, ``ablate`` and eval/ scripts.

From the run: languages, codes, BLEU tokenisation and case, rare_k, and decoding's length and
batch limits (``FROM_RUN``). From the model given, never silently from the run's synthesis
model: its settings (``rundir.MODEL_SETTINGS``) and its beam; decoding never samples.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from translate_synth.config import Config, build_config
from translate_synth.errors import UserError
from translate_synth.rundir import MODEL_SETTINGS, derived_model, run_model_ids

# what evaluate and train take from the run's config, whatever the model (said in eval.json)
FROM_RUN = ("lang", "source_lang", "codes", "source_codes", "model.target_token",
            "scoring.bleu_tokenize", "scoring.lowercase", "collapse.rare_k",
            "synthesis.decoding.max_new_tokens", "synthesis.decoding.batch_size",
            "synthesis.decoding.max_tokens")
DEFAULT_BEAM = 4


def model_kind(model: str, backend: str | None) -> str:
    """``bergamot``, ``transformers``, ``ctranslate2`` (a transformers model converted on the
    fly) or ``ct2dir`` (a directory CTranslate2 already converted)."""
    if model == "bergamot" or backend == "bergamot":
        if model != "bergamot":
            raise UserError(f"{model} with --backend bergamot: the bergamot backend runs only "
                            "its built-in en<->pt model; give MODEL as `bergamot`")
        return "bergamot"
    from translate_synth.backends.ct2 import is_converted_dir

    if is_converted_dir(Path(os.path.expanduser(model))):
        if backend == "transformers":
            raise UserError(f"{model} is a CTranslate2 model (model.bin, no transformers "
                            "weights): drop --backend transformers (or give --backend "
                            "ctranslate2)")
        return "ct2dir"
    return backend or "transformers"


def model_beam(model: str, kind: str) -> int | None:
    """``num_beams`` of the model's own generation config (a local directory, or a hub id in
    the local cache), None when it has none."""
    if kind == "bergamot":
        return None
    path = Path(os.path.expanduser(model)) / "generation_config.json"
    try:
        if path.is_file():
            n = json.loads(path.read_text(encoding="utf-8")).get("num_beams")
        elif not Path(os.path.expanduser(model)).exists():
            from transformers import GenerationConfig

            n = GenerationConfig.from_pretrained(model, local_files_only=True).num_beams
        else:
            return None
    except Exception:  # no generation config: the default beam
        return None
    return int(n) if isinstance(n, int) and n >= 1 else None


def eval_config(manifest: dict, model: str, kind: str, sets: list[str] = (),
                cache_dir: str | None = None, no_cache: bool = False) -> Config:
    """The run's resolved config with the model replaced (``--set`` applied after).

    From the run: languages, language codes, BLEU tokenisation and case, rare_k, and the
    length and batch limits of decoding (``FROM_RUN``). From the model given, never silently
    from the run's synthesis model: ``revision``, ``trust_remote_code``, ``dtype`` and
    ``ct2_quantization`` are the run's only when MODEL is the run's own model, else the
    defaults; decoding is deterministic (no sampling, whatever the run synthesised with), with
    the beam of the model's own generation config (``num_beams``), else the run's beam for the
    run's own model, else 4. ``--set`` overrides any of it."""
    raw = {k: v for k, v in manifest["config"].items()
           if k not in ("output", "cache", "executor", "tracking")}
    backend = "ctranslate2" if kind == "ct2dir" else kind
    run_model = raw.get("model") or {}
    same = (kind == "bergamot" and run_model.get("backend") == "bergamot") or \
        (kind != "bergamot" and model in run_model_ids(run_model))
    raw["model"] = derived_model(run_model, same, backend=backend,
                                 id=None if kind == "bergamot" else model, ids={},
                                 family="auto")
    dec = dict((raw.get("synthesis") or {}).get("decoding") or {})
    beam = model_beam(model, kind) or (dec.get("beam_size") if same and not dec.get("sampling")
                                       else None) or DEFAULT_BEAM
    dec.update(sampling=False, temperature=1.0, top_p=1.0, top_k=0, beam_size=beam)
    raw["synthesis"] = {**(raw.get("synthesis") or {}), "decoding": dec}
    raw["cache"] = {"enabled": not no_cache, "dir": cache_dir}
    try:
        return build_config(raw, "<the run's config>", "", list(sets))
    except UserError as e:
        raise UserError(f"evaluate: {e} (the config comes from the run's manifest.json and "
                        "--set)") from None


def same_model(cfg: Config, manifest: dict) -> bool:
    """Is ``cfg``'s model the one the run synthesised with?"""
    run = (manifest.get("config") or {}).get("model") or {}
    if cfg.model.backend == "bergamot" or run.get("backend") == "bergamot":
        return cfg.model.backend == run.get("backend")
    return cfg.model.id in run_model_ids(run)


def settings_origin(cfg: Config, manifest: dict, model: str, kind: str) -> dict:
    """What the evaluation took from the run and what from the model (eval.json ``settings``)."""
    run_model = (manifest.get("config") or {}).get("model") or {}
    same = same_model(cfg, manifest)
    beam = model_beam(model, kind)
    return {"from_run": list(FROM_RUN),
            "model_settings": {k: getattr(cfg.model, k) for k in MODEL_SETTINGS},
            "model_settings_from": "the run (the run's own model)" if same else
            "defaults (not the run's synthesis model's)",
            "run_model_settings": {k: run_model.get(k) for k in MODEL_SETTINGS},
            "decoding_beam_from": "the model's generation config" if beam else
            "the run's decoding" if same else f"the default ({DEFAULT_BEAM})",
            "sampling": False}


def make_eval_translator(cfg: Config, kind: str, tokenizer: str | None = None):
    """A translator for ``cfg`` (``make_translator``), or for a converted CTranslate2 directory
    (``make_converted_translator``, wrapped in the same cache)."""
    from translate_synth.backends import make_converted_translator, make_translator

    if kind != "ct2dir":
        if tokenizer:
            raise UserError("--tokenizer is for a CTranslate2 model directory only (a "
                            "transformers model brings its own tokenizer)")
        return make_translator(cfg)
    return make_converted_translator(cfg, tokenizer)

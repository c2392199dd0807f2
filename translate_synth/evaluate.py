"""Evaluate a translation model on a finished run's held-out sets: did the synthetic data help?

``translate-synth evaluate MODEL RUN_DIR --out DIR [--baseline MODEL2] [--split test|valid]``
translates the run's real held-out set (``test.jsonl`` or ``valid.jsonl``) and its synthetic
valid set (``valid_synthetic.jsonl``, when the run wrote one) from ``source_lang`` to ``lang``
(``--direction both`` adds ``lang`` -> ``source_lang``, the references then being the source
side), and writes under DIR only (the run directory is read, never written):

- ``<set>.<src>-<tgt>.hyp.txt`` (and ``.baseline.txt``, ``.ref.txt``): one line per row of the
  set, in its order, so every number recomputes with sacrebleu from the stored files
  (``sacrebleu <set>.<src>-<tgt>.ref.txt -i <set>.<src>-<tgt>.hyp.txt -m bleu chrf``);
- ``eval.json``: corpus BLEU, chrF and chrF++ with their signatures and constructor arguments;
  with a baseline, the paired significance of each difference (sacrebleu's own ``PairedTest``:
  paired bootstrap by default, or approximate randomisation); rare-word recall
  (``translate_synth.rarewords``) against the run's real training text; the gap between the
  synthetic valid set's scores and the real set's;
- ``eval.md``: the same in words.

MODEL is a hub id or local transformers directory, a directory CTranslate2 converted
(``model.bin`` and no transformers weights; its tokenizer in the directory or given with
``--tokenizer``), or ``bergamot`` (the built-in en<->pt model). The translator is built by
``translate_synth.backends.make_translator`` from the run's resolved config with the model
replaced: languages, codes, BLEU tokenisation and decoding limits come from the run; the
model's settings (revision, trust_remote_code, dtype, beam; never sampling) from the model
given (``eval_config``; eval.json ``model.settings`` says which came from where).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

from translate_synth.config import Config, build_config
from translate_synth.errors import UserError
from translate_synth.rarewords import rare_word_recall, train_counts
from translate_synth.rundir import check_out_outside, read_manifest as load_run

EVAL_FORMAT = 1
METRICS = ("bleu", "chrf", "chrf++")
REAL_SPLITS = ("test", "valid")
SYNTHETIC = "valid_synthetic"
PAIRED_TESTS = {"bs": "paired bootstrap resampling", "ar": "paired approximate randomisation"}
HF_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
              "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model",
                   "source.spm", "spiece.model", "vocab.json")
# characters str.splitlines() splits on: never inside a stored line (files stay line-aligned
# whichever way they are read)
_LINE_BREAKS = dict.fromkeys(map(ord, "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), " ")


# ---------------------------------------------------------------- the run

def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise UserError(f"{path}:{n}: not JSON ({e.msg}); the run directory is damaged: "
                                "rerun `translate-synth run`") from None
    return rows


def set_rows(run_dir: Path, name: str) -> list[dict] | None:
    """Rows of ``<name>.jsonl`` in the run, or None when the run has no such file."""
    path = Path(run_dir) / f"{name}.jsonl"
    return read_jsonl(path) if path.is_file() else None


# ---------------------------------------------------------------- the model

def model_kind(model: str, backend: str | None) -> str:
    """``bergamot``, ``transformers``, ``ctranslate2`` (a transformers model converted on the
    fly) or ``ct2dir`` (a directory CTranslate2 already converted)."""
    if model == "bergamot" or backend == "bergamot":
        if model != "bergamot":
            raise UserError(f"{model} with --backend bergamot: the bergamot backend runs only "
                            "its built-in en<->pt model; give MODEL as `bergamot`")
        return "bergamot"
    path = Path(os.path.expanduser(model))
    converted = path.is_dir() and (path / "model.bin").is_file() and not any(
        (path / f).exists() for f in HF_WEIGHTS) and not _hf_config(path)
    if converted:
        if backend == "transformers":
            raise UserError(f"{model} is a CTranslate2 model (model.bin, no transformers "
                            "weights): drop --backend transformers (or give --backend "
                            "ctranslate2)")
        return "ct2dir"
    return backend or "transformers"


def _hf_config(path: Path) -> bool:
    """True when ``path/config.json`` is a transformers config (CTranslate2 writes its own
    config.json, without ``model_type``)."""
    try:
        return "model_type" in json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError, TypeError):
        return False


# what evaluate and train take from the run's config, whatever the model (said in eval.json)
FROM_RUN = ("lang", "source_lang", "codes", "source_codes", "model.target_token",
            "scoring.bleu_tokenize", "scoring.lowercase", "collapse.rare_k",
            "synthesis.decoding.max_new_tokens", "synthesis.decoding.batch_size",
            "synthesis.decoding.max_tokens")
MODEL_SETTINGS = ("revision", "trust_remote_code", "dtype", "ct2_quantization")
DEFAULT_BEAM = 4


def _run_model_ids(run_model: dict) -> set:
    return {run_model.get("id"), *(run_model.get("ids") or {}).values()} - {None}


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
        (kind != "bergamot" and model in _run_model_ids(run_model))
    settings = {k: run_model[k] for k in MODEL_SETTINGS if same and k in run_model}
    raw["model"] = {**{k: v for k, v in run_model.items() if k not in MODEL_SETTINGS},
                    **settings, "backend": backend,
                    "id": None if kind == "bergamot" else model, "ids": {}, "family": "auto"}
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
    (``ConvertedCT2``, wrapped in the same cache)."""
    from translate_synth.backends import make_translator

    if kind != "ct2dir":
        if tokenizer:
            raise UserError("--tokenizer is for a CTranslate2 model directory only (a "
                            "transformers model brings its own tokenizer)")
        return make_translator(cfg)
    inner = ConvertedCT2(cfg, tokenizer)
    if not cfg.cache.enabled:
        return inner
    from translate_synth.backends import _local_stamp
    from translate_synth.cache import CachedTranslator, default_dir

    m = cfg.model
    identity = {"backend": "ctranslate2-converted", "dir": str(Path(m.id).resolve()),
                "tokenizer": inner.tokenizer_src, "family": m.family,
                "target_token": m.target_token, "codes": cfg.codes,
                "source_codes": cfg.source_codes, "compute_type": inner.quantization,
                "local": _local_stamp([m.id, inner.tokenizer_src])}
    return CachedTranslator(inner, Path(cfg.cache.dir) if cfg.cache.dir else default_dir(),
                            identity)


def _converted_ct2_class():
    from translate_synth.backends.ct2 import CT2Translator

    class _ConvertedCT2(CT2Translator):
        """A directory CTranslate2 already converted, used as it is (no conversion).

        The tokenizer comes from the directory (when it holds tokenizer files) or from
        ``tokenizer`` (the transformers model it was converted from, a directory or hub id);
        the language-code family from ``model.family``, else from that model's config, else
        from the tokenizer's class."""

        def __init__(self, cfg: Config, tokenizer: str | None = None):
            super().__init__(cfg)
            mid = cfg.model.id
            if tokenizer:
                self.tokenizer_src = tokenizer
            elif any((Path(mid) / f).exists() for f in TOKENIZER_FILES):
                self.tokenizer_src = str(mid)
            else:
                raise UserError(f"{mid}: a CTranslate2 model without tokenizer files: give "
                                "--tokenizer PATH_OR_ID (the transformers model it was "
                                "converted from)")
            if cfg.model.ct2_quantization == "auto":
                self.quantization = "default"  # the type it was saved in

        def _load(self, mid: str):
            if mid in self._models:
                return self._models[mid]
            import ctranslate2
            import transformers
            from transformers import AutoConfig, AutoTokenizer, GenerationConfig

            from translate_synth.backends.hf import detect_family

            transformers.utils.logging.set_verbosity_error()
            src = self.tokenizer_src
            local = dict(local_files_only=True) if not Path(src).exists() else {}
            try:
                tok = AutoTokenizer.from_pretrained(src, **local)
            except Exception as e:
                raise UserError(f"tokenizer {src}: cannot load it ({type(e).__name__}: "
                                f"{str(e).splitlines()[0][:160] if str(e) else ''}); give "
                                "--tokenizer the transformers model the CTranslate2 model was "
                                "converted from") from None
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
            try:
                ct = ctranslate2.Translator(str(mid), device=self.device,
                                            device_index=self.device_index,
                                            compute_type=self.quantization, inter_threads=1,
                                            intra_threads=os.cpu_count() or 1)
            except Exception as e:
                raise UserError(f"{mid}: CTranslate2 cannot load it ({type(e).__name__}: "
                                f"{str(e).splitlines()[0][:160] if str(e) else ''})") from None
            self._models[mid] = (tok, ct)
            self._family[mid] = fam
            self._paths = {mid: str(mid)}
            return self._models[mid]

    return _ConvertedCT2


def ConvertedCT2(cfg: Config, tokenizer: str | None = None):  # noqa: N802 - a class, built late
    """A translator for a converted CTranslate2 directory (ctranslate2 imported only here)."""
    return _converted_ct2_class()(cfg, tokenizer)


def _family_from_tokenizer(tok, mid) -> str:
    name = type(tok).__name__.lower()
    for key, fam in (("nllb", "nllb"), ("m2m100", "m2m100"), ("mbart50", "mbart50"),
                     ("mbart", "mbart50"), ("marian", "marian"), ("t5", "madlad")):
        if key in name:
            return fam
    raise UserError(f"{mid}: cannot tell the language-code scheme from a {type(tok).__name__}: "
                    "--set model.family=nllb (or m2m100, mbart50, madlad, marian), or give "
                    "--tokenizer the transformers model it was converted from")


def same_model(cfg: Config, manifest: dict) -> bool:
    """Is ``cfg``'s model the one the run synthesised with?"""
    run = (manifest.get("config") or {}).get("model") or {}
    if cfg.model.backend == "bergamot" or run.get("backend") == "bergamot":
        return cfg.model.backend == run.get("backend")
    ids = {run.get("id"), *(run.get("ids") or {}).values()} - {None}
    return cfg.model.id in ids


# ---------------------------------------------------------------- scores

def metric_args(cfg: Config) -> dict[str, dict]:
    """sacrebleu constructor arguments of each corpus metric (the run's tokenisation/case)."""
    s = cfg.scoring
    return {"bleu": {"tokenize": s.bleu_tokenize, "lowercase": s.lowercase},
            "chrf": {"word_order": 0, "lowercase": s.lowercase},
            "chrf++": {"word_order": 2, "lowercase": s.lowercase}}


def make_metrics(args: dict[str, dict]) -> dict:
    from sacrebleu.metrics import BLEU, CHRF

    return {"bleu": BLEU(**args["bleu"]), "chrf": CHRF(**args["chrf"]),
            "chrf++": CHRF(**args["chrf++"])}


def corpus_scores(hyps: list[str], refs: list[str], args: dict[str, dict]) -> tuple[dict, dict]:
    """({metric: score}, {metric: signature}) of sacrebleu's corpus metrics."""
    scores, sigs = {}, {}
    for name, m in make_metrics(args).items():
        scores[name] = m.corpus_score(hyps, [refs]).score
        sigs[name] = str(m.get_signature())
    return scores, sigs


def paired_significance(hyps: list[str], base: list[str], refs: list[str], args: dict,
                        test: str = "bs", n_samples: int = 0) -> dict:
    """sacrebleu's ``PairedTest`` of the model against the baseline on one set: per metric the
    two scores, their difference, the p-value (two-sided: how likely a difference this large is
    by chance) and the 95 % interval half-widths; the test's signature (seed, resamples)."""
    from sacrebleu.significance import PairedTest

    metrics = make_metrics(args)
    test_names = {m.corpus_score(["a"], [["a"]]).name: k for k, m in metrics.items()}
    pt = PairedTest([("baseline", base), ("model", hyps)], metrics, [refs], test_type=test,
                    n_samples=n_samples, n_ar_confidence=-1 if test == "bs" else 0)
    sigs, res = pt()
    out = {"test": test, "name": PAIRED_TESTS[test], "n_samples": pt.n_samples,
           "seed": pt._seed, "metrics": {}}
    for sname, key in test_names.items():
        b, m = res[sname]
        out["metrics"][key] = {"model": _float(m.score), "baseline": _float(b.score),
                               "difference": _float(m.score) - _float(b.score),
                               "p_value": _float(m.p_value),
                               "model_mean": _float(m.mean), "model_ci": _float(m.ci),
                               "baseline_mean": _float(b.mean), "baseline_ci": _float(b.ci),
                               "signature": str(sigs[sname])}
    return out


def _float(x) -> float | None:
    return None if x is None else float(x)  # sacrebleu returns numpy numbers here


def _clean_line(text) -> str:
    return ("" if text is None else str(text)).translate(_LINE_BREAKS)


# ---------------------------------------------------------------- the evaluation

def evaluate(model: str, run_dir: Path, out: Path, baseline: str | None = None,
             split: str = "test", direction: str = "forward", backend: str | None = None,
             baseline_backend: str | None = None, tokenizer: str | None = None,
             baseline_tokenizer: str | None = None, sets: list[str] = (),
             paired_test: str = "bs", cache_dir: str | None = None, no_cache: bool = False,
             log: Callable[[str], None] = lambda m: None) -> dict:
    """Evaluate ``model`` (and ``baseline``) on ``run_dir``'s held-out sets; write ``out``.

    Returns the ``eval.json`` content. The run directory is only read."""
    t0 = time.perf_counter()
    if split not in REAL_SPLITS:
        raise UserError(f"--split {split}: one of {', '.join(REAL_SPLITS)}")
    if direction not in ("forward", "both"):
        raise UserError(f"--direction {direction}: forward or both")
    if paired_test not in PAIRED_TESTS:
        raise UserError(f"--paired-test {paired_test}: bs (paired bootstrap) or ar "
                        "(approximate randomisation)")
    run_dir, out = Path(run_dir), Path(out)
    manifest = load_run(run_dir)
    _check_out(out, run_dir)
    kind = model_kind(model, backend)
    cfg = eval_config(manifest, model, kind, sets, cache_dir, no_cache)
    lang, src_lang = cfg.lang, cfg.source_lang
    rare_k = cfg.collapse.rare_k
    args = metric_args(cfg)
    notes: list[str] = []

    data = {}
    for name in (split, SYNTHETIC):
        rows = set_rows(run_dir, name)
        if rows is None:
            notes.append(f"{name}.jsonl is not in the run" + (
                " (a run writes it when curriculum.valid_synthetic is above 0; `translate-synth "
                "refilter RUN --set curriculum.valid_synthetic=200 --out OTHER` makes one): no "
                "synthetic set, no synthetic-real gap" if name == SYNTHETIC else "") +
                "; evaluated what exists")
        elif not rows:
            notes.append(f"{name}.jsonl has no rows: not evaluated")
        else:
            data[name] = rows
    if not data:
        raise UserError(f"{run_dir}: nothing to evaluate: no rows in {split}.jsonl or "
                        f"{SYNTHETIC}.jsonl (try --split {'valid' if split == 'test' else 'test'})")
    train = set_rows(run_dir, "train") or []
    real_train = [r for r in train if r.get("origin") == "real"]
    if not real_train:
        notes.append("no real training pairs in train.jsonl: every reference word counts as "
                     "unseen")

    directions = [(src_lang, lang, "source", "target")]
    if direction == "both":
        directions.append((lang, src_lang, "target", "source"))
    systems = [("model", model, kind, cfg, tokenizer)]
    if baseline:
        bkind = model_kind(baseline, baseline_backend)
        bcfg = eval_config(manifest, baseline, bkind, sets, cache_dir, no_cache)
        systems.append(("baseline", baseline, bkind, bcfg, baseline_tokenizer))
    elif baseline_backend or baseline_tokenizer:
        raise UserError("--baseline-backend/--baseline-tokenizer need --baseline MODEL")

    # translate: one model at a time (one model in memory)
    hyps: dict[tuple[str, str, str], list[str]] = {}  # (system, direction, set) -> lines
    described, seconds = {}, {}
    from translate_synth import progress

    for sys_name, spec, skind, scfg, stok in systems:
        translator = make_eval_translator(scfg, skind, stok)
        decoding = scfg.synthesis.decoding
        ts = time.perf_counter()
        for s, t, sf, tf in directions:
            if (s, t) == directions[0][:2]:  # the first check loads the model
                with progress.step(f"evaluate: {sys_name} {spec}: loading the model",
                                   log_fn=log):
                    translator.check(s, t, decoding)
            else:
                translator.check(s, t, decoding)
            for name, rows in data.items():
                with progress.bar(f"evaluate: {sys_name} {spec}: {name} {s}->{t}",
                                  total=len(rows), unit="rows", log_fn=log) as pbar:
                    got = progress.translate(translator, [_clean_line(r.get(sf)) for r in rows],
                                             s, t, decoding, pbar)
                hyps[(sys_name, f"{s}-{t}", name)] = [_clean_line(h[0] if h else "")
                                                      for h in got]
        seconds[sys_name] = round(time.perf_counter() - ts, 2)
        described[sys_name] = {"spec": spec, "kind": skind, **translator.describe(),
                               "decoding": decoding.model_dump(),
                               "synthesised_this_run": same_model(scfg, manifest),
                               "settings": settings_origin(scfg, manifest, spec, skind)}
        del translator

    files: list[str] = []
    result_dirs = {}
    for s, t, sf, tf in directions:
        key = f"{s}-{t}"
        counts = train_counts(r.get(tf) or "" for r in real_train)
        res_sets = {}
        for name, rows in data.items():
            refs = [_clean_line(r.get(tf)) for r in rows]
            stem = f"{name}.{key}"
            entry = {"file": f"{name}.jsonl", "rows": len(rows), "real": name != SYNTHETIC,
                     "references": f"{stem}.ref.txt", "hypotheses": f"{stem}.hyp.txt"}
            _write_lines(out / entry["references"], refs)
            h = hyps[("model", key, name)]
            _write_lines(out / entry["hypotheses"], h)
            files += [entry["references"], entry["hypotheses"]]
            entry["scores"], sigs = corpus_scores(h, refs, args)
            entry["rare_words"] = rare_word_recall(h, refs, counts, rare_k)
            if name == SYNTHETIC:
                entry["by_origin"] = _by_origin(rows, h, refs, args)
                entry["reference_side"] = _reference_side(rows, tf)
            if baseline:
                b = hyps[("baseline", key, name)]
                entry["baseline_hypotheses"] = f"{stem}.baseline.txt"
                _write_lines(out / entry["baseline_hypotheses"], b)
                files.append(entry["baseline_hypotheses"])
                entry["baseline"] = {"scores": corpus_scores(b, refs, args)[0],
                                     "rare_words": rare_word_recall(b, refs, counts, rare_k)}
                with progress.step(f"evaluate: {name} {key}: paired significance "
                                   f"({PAIRED_TESTS.get(paired_test, paired_test)})",
                                   log_fn=log):
                    entry["significance"] = paired_significance(h, b, refs, args, paired_test)
            res_sets[name] = entry
        gap = None
        if split in res_sets and SYNTHETIC in res_sets:
            gap = {"real": split, "synthetic": SYNTHETIC,
                   **{m: res_sets[SYNTHETIC]["scores"][m] - res_sets[split]["scores"][m]
                      for m in METRICS}}
        result_dirs[key] = {"source_lang": s, "target_lang": t, "reference_field": tf,
                            "sets": res_sets, "gap": gap}

    if described["model"]["synthesised_this_run"] and SYNTHETIC in data:
        notes.append("the model is the one the run synthesised with: on valid_synthetic its "
                     "forward translations are its own output, so that score measures "
                     "agreement with itself, not quality, and the gap is not a test of the "
                     "synthetic data")
    report = {
        "format": EVAL_FORMAT, "kind": "translate-synth evaluation",
        "version": _version(), "run": {
            "dir": str(run_dir.resolve()), "lang": lang, "source_lang": src_lang,
            "fingerprint": manifest.get("fingerprint"), "seed": manifest.get("seed"),
            "run_model": manifest.get("model"), "split": split,
            "real_train_pairs": len(real_train), "rare_k": rare_k},
        "model": described["model"], "baseline": described.get("baseline"),
        "direction": direction, "metrics": {
            m: {"args": args[m], "signature": sig} for m, sig in
            corpus_scores(["a"], ["a"], args)[1].items()},
        "directions": result_dirs, "notes": notes,
        "recompute": ("sacrebleu.metrics.BLEU(**metrics['bleu']['args']).corpus_score(hyps, "
                      "[refs]).score == directions[d]['sets'][s]['scores']['bleu'], hyps and "
                      "refs read from the .hyp.txt/.ref.txt files one line each (CHRF for chrf "
                      "and chrf++); or `sacrebleu REF -i HYP -m bleu chrf [--chrf-word-order 2]`"),
        "files": sorted(files + ["eval.md"]),
        "timings_s": {**{f"translate_{k}": v for k, v in seconds.items()},
                      "total": round(time.perf_counter() - t0, 2)},
    }
    from translate_synth.emit import write_bytes, write_json
    from translate_synth.report.evaluations import eval_md

    write_bytes(out / "eval.md", eval_md(report).encode("utf-8"))
    _remove_stale(out, set(report["files"]))
    write_json(out / "eval.json", report)  # last: its presence means the rest is complete
    return report


def _by_origin(rows, hyps, refs, args) -> dict:
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.get("origin") or "?", []).append(i)
    return {o: {"rows": len(ix), **corpus_scores([hyps[i] for i in ix], [refs[i] for i in ix],
                                                 args)[0]}
            for o, ix in sorted(groups.items())}


def _reference_side(rows, field: str) -> dict:
    """How many references are real text and how many machine-made (synthetic rows only)."""
    real = sum(1 for r in rows if r.get("origin") == "real" or r.get("authentic") == field)
    return {"real": real, "synthetic": len(rows) - real}


def _version() -> str:
    from translate_synth import __version__

    return __version__


def _check_out(out: Path, run_dir: Path) -> None:
    check_out_outside(out, run_dir, "evaluate")
    if (out / "manifest.json").exists() or (out / "stats.json").exists():
        raise UserError(f"--out {out}: holds a run (manifest.json); give an empty or "
                        "evaluation directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {out}: cannot create it ({e.strerror})") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"--out {out}: not writable")


def _write_lines(path: Path, lines: list[str]) -> None:
    from translate_synth.emit import write_bytes

    write_bytes(path, "".join(f"{x}\n" for x in lines).encode("utf-8"))


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Files an earlier evaluation in ``out`` listed and this one does not write."""
    try:
        old = json.loads((out / "eval.json").read_text(encoding="utf-8")).get("files") or []
    except (OSError, ValueError, AttributeError):
        return
    for name in old:
        if isinstance(name, str) and name not in keep and "/" not in name and \
                name.endswith((".txt", ".md")):
            try:
                (out / name).unlink()
            except OSError:
                pass


def read_lines(path: Path) -> list[str]:
    """A stored hypotheses/references file, one entry per line."""
    return Path(path).read_text(encoding="utf-8").split("\n")[:-1]

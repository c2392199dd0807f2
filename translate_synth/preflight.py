"""The checks a run makes before any work, shared by ``validate`` and ``run`` (which runs them
first): whatever can be told from the config and the disk without loading a model.

- languages against the backend: bergamot ships en<->pt only; a transformers/ctranslate2 model
  whose code family shows (``model.family``, a local directory's config, a hub id's name) must
  have a code for each language (``langs.family_code``, the run's own message);
- models: a direction without a model; a reference that reads as a local path and is missing
  (``backends/modelref.py``);
- input files: present, files, not empty, readable (``hf:`` datasets on the hub are not
  looked up; an ``hf:`` local directory must exist).

Value ranges (thresholds, fractions, seed) are the schema's: a Config that exists passed them.
Each problem is one UserError line, the same one ``run`` would end with.
"""

from __future__ import annotations

import os
from pathlib import Path

from translate_synth.config import DATA_LISTS, HF_PREFIX, Config
from translate_synth.errors import UserError


RAY_MISSING = "executor ray needs Ray: pip install 'translate-synth[ray]' (or use --executor local)"


def check_run(cfg: Config) -> None:
    """Raise the first problem a run of ``cfg`` would meet before or while loading its model."""
    check_languages(cfg)
    check_models(cfg)
    check_runtime(cfg)
    check_files(cfg)
    from translate_synth.ingest import check_inputs

    check_inputs(cfg)  # every input's layout, header and first usable line, as `run` reads it


def directions(cfg: Config) -> list[tuple[str, str]]:
    """(source, target) pairs the run may translate, in the order the run checks them."""
    src, tgt = cfg.source_lang, cfg.lang
    out = [(tgt, src), (src, tgt)]
    para = cfg.synthesis.paraphrase
    if para.enabled and para.pivot_lang:
        for side in para.sides:
            lang = tgt if side == "target" else src
            out += [(lang, para.pivot_lang), (para.pivot_lang, lang)]
    return list(dict.fromkeys(out))


def check_languages(cfg: Config) -> None:
    if cfg.model.backend == "bergamot":
        from translate_synth.backends.bergamot import DIRECTIONS, no_direction_message

        for s, t in directions(cfg):
            if f"{s}-{t}" not in DIRECTIONS:
                raise UserError(no_direction_message(f"{s}-{t}"))
        return
    from translate_synth.backends.modelref import guess_family
    from translate_synth.langs import family_code

    m = cfg.model
    for s, t in directions(cfg):
        mid = m.ids.get(f"{s}-{t}") or m.id
        if not mid:
            continue  # check_models says so
        fam = m.family if m.family != "auto" else guess_family(mid)
        needed = {"nllb": (s, t), "m2m100": (s, t), "mbart50": (s, t), "madlad": (t,),
                  "marian": (t,) if m.target_token else ()}.get(fam or "", ())
        for lang in needed:
            over = cfg.codes if lang == cfg.lang else (
                cfg.source_codes if lang == cfg.source_lang else {})
            family_code(lang, fam, over)


def check_models(cfg: Config) -> None:
    if cfg.model.backend == "bergamot":
        return
    from translate_synth.backends.modelref import check_model_path, no_model_message

    m = cfg.model
    if not m.id and not any(m.ids.values()):
        raise UserError(no_model_message(m.backend, cfg.source_lang, cfg.lang))
    for ref in [m.id, *m.ids.values()]:
        if ref:
            check_model_path(ref)


def check_runtime(cfg: Config) -> None:
    """The executor's package and the asked device (``cuda``/``cuda:N`` only: auto and cpu
    always run)."""
    if cfg.executor.name == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise UserError(RAY_MISSING)
    device = cfg.model.device
    if device.startswith("cuda") and cfg.model.backend == "transformers":
        from translate_synth.backends.hf import pick_device

        pick_device(device)
    elif device.startswith("cuda") and cfg.model.backend == "ctranslate2":
        from translate_synth.backends.ct2 import ct2_device

        ct2_device(device)


def check_files(cfg: Config) -> None:
    from translate_synth import hf_input
    from translate_synth.ingest import resolve
    from translate_synth.ingest_lines import check_file

    for kind in DATA_LISTS:
        for f in getattr(cfg.data, kind):
            _, path = resolve(f)  # builtin: files that are missing raise here
            if path is None:  # hf:NAME on the hub, or hf:/a/local/dataset
                name = hf_input.hf_spec(f)[1]
                local = Path(os.path.expanduser(name))
                if name.startswith(("/", "./", "../", "~")) and not local.exists():
                    raise UserError(f"{HF_PREFIX}{name}: no such directory; give the directory "
                                    "a dataset was saved to (save_to_disk), or a hub name")
                if hf_input.saved_to_disk(str(local)):
                    hf_input.load(f, streaming=True)  # memory-mapped: says when the split is missing
                continue
            check_file(path)
            if not os.access(path, os.R_OK):
                raise UserError(f"{path}: not readable (permission denied); fix its "
                                "permissions (chmod u+r) or copy it somewhere readable")

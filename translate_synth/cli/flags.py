"""Command-line flags -> the run's config: the shipped or given file, flags, then --set."""

from __future__ import annotations

from pathlib import Path

import click

from translate_synth.errors import UserError


BACKENDS = ("transformers", "ctranslate2", "bergamot")


class BackendChoice(click.Choice):
    def __init__(self):
        super().__init__(BACKENDS)

    def get_invalid_choice_message(self, value, ctx):
        return (f"{value!r} is not a backend: choose {', '.join(BACKENDS[:-1])} or "
                f"{BACKENDS[-1]} (model.backend)")


def resolve_config(lang, config, out, model, backend, parallel, source_mono, target_mono, limit,
                   seed, sets, cache_dir=None, flag_sets=()):
    """The config file (shipped for --lang, or --config) with CLI flags, then --set, applied.

    A flag is never ignored: ``--model`` replaces the config's model (``model.id``, and
    ``model.ids`` and ``model.family`` go back to none and ``auto``) and, without ``--backend``,
    runs on the transformers backend (ctranslate2 when the config asks for it: it runs the same
    models); ``--model`` with the bergamot backend, which has no model to choose, is refused.
    Errors about a key a flag or ``--set`` wrote name that flag or ``--set``, not a config line.
    ``flag_sets`` are ``(key=value, flag)`` overrides made by other flags (``--no-cache``...).
    """
    from translate_synth.config import find_lang_config, load_config, read_yaml

    path = Path(config) if config else find_lang_config(lang)
    overrides: list[tuple[str, str]] = []
    if lang and config:
        overrides.append((f"lang={_quote(lang)}", f"--lang {lang}"))
    if model:
        flag = f"--model {model}"
        overrides += [(f"model.id={_quote(model)}", flag), ("model.ids={}", flag),
                      ("model.family=auto", flag)]
        if not backend:
            raw, _ = read_yaml(path)
            cfg_backend = (raw.get("model") or {}).get("backend") \
                if isinstance(raw.get("model"), dict) else None
            if cfg_backend != "ctranslate2":
                overrides.append(("model.backend=transformers", flag))
    if backend:
        overrides.append((f"model.backend={backend}", f"--backend {backend}"))
    if limit is not None:
        overrides.append((f"data.limit={limit}", f"--limit {limit}"))
    if seed is not None:
        overrides.append((f"seed={seed}", f"--seed {seed}"))
    if parallel or source_mono or target_mono:  # your data replaces the config's data lists
        for key, files in (("parallel", parallel), ("source_mono", source_mono),
                           ("target_mono", target_mono)):
            items = ", ".join(_quote(str(Path(f).resolve()) if not f.startswith(("hf:", "builtin:"))
                                     else f) for f in files)
            flag = f"--{key.replace('_', '-')} {' '.join(files)}" if files else \
                "--parallel/--source-mono/--target-mono (your data replaces the config's)"
            overrides.append((f"data.{key}=[{items}]", flag))
    cfg = load_config(path, overrides + list(flag_sets) + list(sets))
    if model and cfg.model.backend == "bergamot":
        who = f"--backend {backend}" if backend else "--set model.backend=bergamot"
        raise UserError(f"--model {model} with {who}: the bergamot backend runs only its built-in "
                        "en<->pt model and takes no model id; drop --model, or drop "
                        f"{who} (--model alone runs on the transformers backend)")
    if out:  # the command line may send outputs anywhere; a config file may not
        cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(out)})})
    if cache_dir:
        cfg = cfg.model_copy(update={"cache": cfg.cache.model_copy(update={"dir": str(cache_dir)})})
    return cfg


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def run_flag_sets(fail_on_collapse, track, no_cache, executor, ray_address) -> list:
    """``(key=value, flag)`` overrides made by `run`'s flags that set one config key each."""
    flag_sets = []
    if fail_on_collapse:
        flag_sets.append(("collapse.fail=true", "--fail-on-collapse"))
    if track:
        flag_sets.append((f"tracking={track}", f"--track {track}"))
    if no_cache:
        flag_sets.append(("cache.enabled=false", "--no-cache"))
    if executor:
        flag_sets.append((f"executor.name={executor}", f"--executor {executor}"))
    if ray_address:
        flag_sets.append((f"executor.address={_quote(ray_address)}",
                          f"--ray-address {ray_address}"))
    return flag_sets

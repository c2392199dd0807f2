"""The command line: parse, call the pipeline, map errors to exit codes. Nothing else.

Exit codes: 0 success, 2 bad input/config/missing resource (one line on stderr), 1 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from translate_synth import __version__
from translate_synth.errors import Interrupted, UserError


def _fail(e: Exception) -> None:
    if isinstance(e, UserError):
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    if isinstance(e, Interrupted):
        click.echo(f"interrupted: {e}", err=True)
        sys.exit(130)
    if isinstance(e, KeyboardInterrupt):
        click.echo("interrupted: finished synthesis chunks are saved; run the same command again "
                   "to resume (--restart to start over)", err=True)
        sys.exit(130)
    if os.environ.get("TRANSLATE_SYNTH_DEBUG"):
        traceback.print_exc()
    click.echo(f"internal error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
               "(set TRANSLATE_SYNTH_DEBUG=1 for a traceback, and please report it)", err=True)
    sys.exit(1)


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - every error becomes one line, never a traceback
            _fail(e)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="translate-synth")
def main():
    """Synthetic parallel data for low-resource languages: synthesise, score, filter, emit."""


def resolve_config(lang, config, out, model, backend, parallel, source_mono, target_mono, limit,
                   seed, sets):
    """The config file (shipped for --lang, or --config) with CLI flags, then --set, applied."""
    from translate_synth.config import find_lang_config, load_config

    path = Path(config) if config else find_lang_config(lang)
    overrides = []
    if lang and config:
        overrides.append(f"lang={lang}")
    if model:
        overrides.append(f"model.id={model}")
    if backend:
        overrides.append(f"model.backend={backend}")
    if limit is not None:
        overrides.append(f"data.limit={limit}")
    if seed is not None:
        overrides.append(f"seed={seed}")
    if parallel or source_mono or target_mono:  # your data replaces the config's data lists
        for key, files in (("parallel", parallel), ("source_mono", source_mono),
                           ("target_mono", target_mono)):
            items = ", ".join(_quote(str(Path(f).resolve()) if not f.startswith(("hf:", "builtin:"))
                                     else f) for f in files)
            overrides.append(f"data.{key}=[{items}]")
    cfg = load_config(path, overrides + list(sets))
    if out:  # the command line may send outputs anywhere; a config file may not
        cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(out)})})
    return cfg


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


@main.command()
@click.option("--lang", help="target language: picks lang_configs/<lang>.yaml")
@click.option("--config", "config", type=click.Path(), help="a config file instead of the shipped one")
@click.option("--out", help="output root: files go to OUT/<lang>/ (default: output.dir, 'out')")
@click.option("--model", help="model id or local path (model.id)")
@click.option("--backend", help="transformers or bergamot (model.backend)")
@click.option("--parallel", multiple=True, help="real parallel file (repeatable)")
@click.option("--source-mono", multiple=True, help="source-language text (repeatable)")
@click.option("--target-mono", multiple=True, help="target-language text (repeatable)")
@click.option("--limit", type=int, help="read at most N lines from each input")
@click.option("--seed", type=int, help="seed for splits and sampling")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE", help="override any config key")
@click.option("--restart", is_flag=True, help="discard an unfinished run in OUT/<lang> and start over")
@click.option("--fail-on-collapse", is_flag=True,
              help="exit 3 when a collapse alarm fires (outputs are still written)")
def run(lang, config, out, model, backend, parallel, source_mono, target_mono, limit, seed, sets,
        restart, fail_on_collapse):
    """Synthesise, score, filter and emit a training set for one language."""
    if not lang and not config:
        raise UserError("give --lang L (a shipped config) or --config FILE")
    if fail_on_collapse:
        sets = (*sets, "collapse.fail=true")
    cfg = resolve_config(lang, config, out, model, backend, parallel, source_mono, target_mono,
                         limit, seed, sets)
    from translate_synth.pipeline import run as run_pipeline
    from translate_synth.summary import print_summary

    result = run_pipeline(cfg, Path(cfg.output.dir), restart=restart)
    print_summary(result)
    _collapse_exit(cfg, result)


def _collapse_exit(cfg, result) -> None:
    alarms = (result.stats.get("collapse") or {}).get("alarms", 0)
    if alarms and cfg.collapse.fail:
        click.echo(f"error: {alarms} collapse alarm(s) (see {result.out_dir / 'collapse.json'}); "
                   "outputs are written; raise collapse.alarms thresholds or fix the data",
                   err=True)
        sys.exit(3)


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override filters/curriculum/collapse keys, e.g. --set filters.2.min=40")
def refilter(run_dir, sets):
    """Re-decide a finished run (OUT/<lang>) from its stored scores: no model call."""
    from translate_synth.pipeline import RunResult, _log
    from translate_synth.refilter import refilter as do_refilter
    from translate_synth.summary import print_summary

    got = do_refilter(Path(run_dir), list(sets), log=_log)
    print_summary(RunResult(Path(run_dir), got["stats"], got["manifest"],
                            got["stats"]["filters"]))


@main.command()
def langs():
    """List the shipped language configs and their codes per model family."""
    from translate_synth.summary import print_langs

    print_langs()


@main.command()
@click.argument("config_file", type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE")
def validate(config_file, sets):
    """Check a config file; exit 0 when valid, 2 with the first problem otherwise."""
    from translate_synth.config import load_config

    cfg = load_config(Path(config_file), list(sets))
    click.echo(f"ok: {config_file} (lang {cfg.lang}, backend {cfg.model.backend}, "
               f"{len(cfg.filters)} filters)")


if __name__ == "__main__":
    main()

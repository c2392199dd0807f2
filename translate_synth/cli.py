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
        except click.UsageError as e:  # a bad flag or value: one line too, exit 2
            sub = e.ctx.command.name if e.ctx is not None and e.ctx.parent is not None else ""
            cmd = f"translate-synth {sub}".strip()
            click.echo(f"error: {' '.join(e.format_message().split())} (see `{cmd} --help`)",
                       err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - every error becomes one line, never a traceback
            _fail(e)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="translate-synth")
def main():
    """Synthetic parallel data for low-resource languages: synthesise, score, filter, emit."""


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


RUN_EPILOG = """\b
Inputs (--parallel, --source-mono, --target-mono; giving any of them replaces
the config's data lists):
  text      one sentence a line (.txt)
  TSV       source<TAB>target (.tsv)
  JSONL     {"en": .., "sw": ..} or {"translation": {"en": .., "sw": ..}}
  Parquet   columns named by the language codes (or a `translation` column)
  .gz       any of the text formats, gzipped
  hf:name[:config][:split]   a `datasets` dataset (split default train),
            or hf:/local/dir (also one save_to_disk wrote)
Other fields or columns: --set 'data.parallel.0.keys=[english, swahili]',
--set 'data.parallel.0.columns=[2, 3]' (TSV: 0-based, or header names).

\b
Examples:
  translate-synth run --lang pt --out out     # the offline demo (bergamot)
  translate-synth run --lang sw --parallel my.en-sw.tsv --model ID_OR_PATH
"""


@main.command(epilog=RUN_EPILOG)
@click.option("--lang", help="target language: picks lang_configs/<lang>.yaml")
@click.option("--config", "config", type=click.Path(), help="a config file instead of the shipped one")
@click.option("--out", help="output root: files go to OUT/<lang>/ (default: output.dir, 'out')")
@click.option("--model", metavar="ID_OR_PATH",
              help="hub id or local model directory (model.id; clears model.ids); without "
                   "--backend it runs on the transformers backend")
@click.option("--backend", type=BackendChoice(),
              help="translation engine (model.backend); bergamot: the built-in en<->pt model")
@click.option("--parallel", multiple=True, metavar="FILE",
              help="real parallel data: TSV, JSONL, Parquet, .gz or hf:name[:config][:split] "
                   "(repeatable)")
@click.option("--source-mono", multiple=True, metavar="FILE",
              help="source-language text: text, JSONL, Parquet, .gz or hf:... (repeatable)")
@click.option("--target-mono", multiple=True, metavar="FILE",
              help="target-language text: text, JSONL, Parquet, .gz or hf:... (repeatable)")
@click.option("--limit", type=int, help="read at most N lines from each input")
@click.option("--seed", type=int, help="seed for splits and sampling")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE", help="override any config key")
@click.option("--restart", is_flag=True, help="discard an unfinished run in OUT/<lang> and start over")
@click.option("--fail-on-collapse", is_flag=True,
              help="exit 3 when a collapse alarm fires (outputs are still written)")
@click.option("--no-report", is_flag=True, help="do not write OUT/<lang>/report.html")
@click.option("--track", type=click.Choice(["none", "comet"]), default=None,
              help="log the run to Comet ML (offline archive when COMET_API_KEY is unset)")
@click.option("--quiet", is_flag=True, help="no progress bars or progress lines")
@click.option("--no-cache", is_flag=True, help="do not read or write the translation cache")
@click.option("--cache-dir", type=click.Path(), help="translation cache location (cache.dir)")
@click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
              help="where stages run: this process (default) or Ray Data")
@click.option("--ray-address", help="join this Ray cluster (executor ray)")
def run(lang, config, out, model, backend, parallel, source_mono, target_mono, limit, seed, sets,
        restart, fail_on_collapse, no_report, track, quiet, no_cache, cache_dir, executor,
        ray_address):
    """Synthesise, score, filter and emit a training set for one language."""
    if not lang and not config:
        raise UserError("give --lang L (a shipped config) or --config FILE")
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
    cfg = resolve_config(lang, config, out, model, backend, parallel, source_mono, target_mono,
                         limit, seed, sets, cache_dir, flag_sets)
    from translate_synth import progress
    from translate_synth.summary import print_summary


    progress.QUIET = quiet
    log = progress.log
    from translate_synth.executors import run as run_executor

    result = run_executor(cfg, Path(cfg.output.dir), log=log, restart=restart)
    print_summary(result)
    from translate_synth.pipeline import write_extras

    # the report and the Comet archive are outputs of the run: listed in its manifest
    result.manifest = write_extras(result.out_dir, result.stats, result.manifest,
                                   report=not no_report, comet=cfg.tracking == "comet", log=log)
    if not no_report:
        log(f"report: {result.out_dir / 'report.html'}")
    _collapse_exit(cfg, result)


def _collapse_exit(cfg, result) -> None:
    alarms = (result.stats.get("collapse") or {}).get("alarms", 0)
    if alarms and cfg.collapse.fail:
        click.echo(f"error: {alarms} collapse alarm(s) (see {result.out_dir / 'collapse.json'}); "
                   "outputs are written; raise collapse.alarms thresholds or fix the data",
                   err=True)
        sys.exit(3)


# the refilter examples of `refilter --help` and the README (tests/test_refilter.py runs the
# README's lines, which must be exactly these)
REFILTER_EXAMPLES = (
    "translate-synth refilter out/pt --set filters.rt_chrf.min=40",
    "translate-synth refilter out/pt --set filters.duplicate.mode=exact "
    "--set curriculum.valid_synthetic=50",
    "translate-synth refilter out/pt --set filters.quality.keep_top=0.7 --out out-strict/pt",
)


@main.command(epilog="\b\nExamples (run `translate-synth run --lang pt --out out` first):\n"
              + "\n".join(f"  {e}" for e in REFILTER_EXAMPLES))
@click.argument("run_dir", type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override filters/curriculum/collapse keys, e.g. --set "
                   "filters.rt_chrf.min=40 (a filter by name, type or index)")
@click.option("--out", "out", type=click.Path(),
              help="write the re-decided run into this directory itself, a run directory such as "
                   "out-strict/pt (not a parent of one), and leave RUN_DIR untouched (default: "
                   "rewrite RUN_DIR)")
def refilter(run_dir, sets, out):
    """Re-decide a finished run (OUT/<lang>) from its stored scores: no model call.

    Rewrites every output file (splits, curriculum stages, candidates, stats, collapse, report,
    manifest) as a full run with those settings would, and removes the files they no longer
    produce. Settings that need the model (model, data, synthesis, scoring, split, quality...)
    are refused: use `translate-synth run`.
    """
    from translate_synth.pipeline import RunResult, _log
    from translate_synth.refilter import refilter as do_refilter
    from translate_synth.summary import print_summary

    got = do_refilter(Path(run_dir), list(sets), log=_log, dest=Path(out) if out else None)
    print_summary(RunResult(got["out_dir"], got["stats"], got["manifest"],
                            got["stats"]["filters"]))


TRAIN_EPILOG = """\b
Examples (run `translate-synth run --lang pt --out out` first):
  translate-synth train out/pt --model scratch --out models/scratch --max-steps 200
      --set train.max_tokens=1024 --set train.eval_every=20
  translate-synth train out/pt --model scratch --out models/scratch --max-steps 200
      --set train.max_tokens=1024 --set train.eval_every=20 --resume   # after a Ctrl-C
  translate-synth train out/pt --model facebook/nllb-200-distilled-600M --out models/nllb
Exit codes: 0 trained, 2 bad input, 3 stopped by --stop-on-divergence (MODEL_DIR written),
130 interrupted (a checkpoint is saved: --resume).
"""


@main.command(epilog=TRAIN_EPILOG)
@click.argument("run_dir", type=click.Path())
@click.option("--model", required=True, metavar="ID|DIR|scratch",
              help="a pretrained seq2seq model to fine-tune (hub id or local directory), or "
                   "`scratch`: a sentencepiece model and a small Marian model trained from zero")
@click.option("--out", "out", required=True, type=click.Path(), metavar="MODEL_DIR",
              help="where the model, train_log.jsonl, train.json and curves.png go")
@click.option("--max-steps", type=int, metavar="N",
              help="steps over all curriculum stages (train.max_steps), split by stage rows")
@click.option("--set", "sets", multiple=True, metavar="train.KEY=VALUE",
              help="override a train.* setting, e.g. --set train.eval_every=100")
@click.option("--resume", is_flag=True, help="continue an interrupted training in MODEL_DIR "
              "from its last checkpoint")
@click.option("--stop-on-divergence", is_flag=True,
              help="stop when the divergence alarm fires (exit 3, MODEL_DIR written)")
@click.option("--track", type=click.Choice(["none", "comet"]), default=None,
              help="log metrics to Comet ML (default: the run's `tracking`)")
@click.option("--quiet", is_flag=True, help="no progress bars or progress lines")
def train(run_dir, model, out, max_steps, sets, resume, stop_on_divergence, track, quiet):
    """Train a translation model on a finished run's curriculum (OUT/<lang>).

    Fine-tunes a pretrained model (NLLB, M2M100, opus-mt, mBART-50, MADLAD/T5) with its own
    language codes, or trains the from-scratch baseline; evaluates on the real and the
    synthetic valid sets every train.eval_every steps; keeps the best checkpoint on the real
    one. Settings: the run's `train:` section and --set train.*.
    """
    from translate_synth import progress
    from translate_synth.train.trainer import train_model
    from translate_synth.train.watch import alarm_text, div_note

    progress.QUIET = quiet
    overrides: list = list(sets)
    if max_steps is not None:
        overrides.append((f"train.max_steps={max_steps}", f"--max-steps {max_steps}"))
    got = train_model(Path(run_dir), model, Path(out), overrides, resume=resume,
                      stop_on_divergence=stop_on_divergence, track=track, log=progress.log)
    best = got["best"] or {}
    real = best.get("real") or {}
    click.echo(f"trained: {got['steps']:,} steps ({got['stopped']}); best step "
               f"{best.get('step')}: real valid chrF {real.get('chrf', 0):.1f}, BLEU "
               f"{real.get('bleu', 0):.1f}; {len(got['alarms'])} divergence alarm(s) "
               f"({div_note(got['divergence'])}); model: {out}")
    if got["stopped"] == "divergence":
        a = got["alarms"][-1]
        click.echo(f"error: divergence alarm at step {a['step']}: {alarm_text(a)}; stopped "
                   f"(--stop-on-divergence); the best real checkpoint is in {out}", err=True)
        sys.exit(3)


ABLATE_EPILOG = """\b
Example (tiny budget; a real answer needs the real-valid curves flat):
  translate-synth ablate out/pt --model scratch --out abl --conditions real,hybrid \\
      --seeds 1 --max-steps 10
  translate-synth report out/pt abl --out cmp
\b
Conditions: real (the run's real pairs), hybrid (its curriculum), unfiltered
(the curriculum from every candidate the safety filters pass), synthetic (its
synthetic rows). Run the same command again to resume: finished models are kept.
"""


@main.command(epilog=ABLATE_EPILOG)
@click.argument("run_dir", type=click.Path())
@click.option("--model", required=True, metavar="scratch|ID|DIR",
              help="what every condition trains: the from-scratch baseline (one shared "
                   "vocabulary) or a pretrained model to fine-tune")
@click.option("--out", required=True, type=click.Path(), help="where models, evaluations, "
              "ablate.json, ablate.md and ablate.png go (never inside RUN_DIR)")
@click.option("--seeds", type=int, default=1, show_default=True,
              help="training seeds per condition (the run's train seed, +1, ...)")
@click.option("--conditions", default=",".join(("real", "hybrid", "unfiltered", "synthetic")),
              show_default=True, help="comma-separated: real, hybrid, unfiltered, synthetic")
@click.option("--max-steps", type=int, metavar="N", help="steps per model (train.max_steps); "
              "every condition gets the same")
@click.option("--device", metavar="D", help="train.device: auto, cpu, cuda, cuda:N")
@click.option("--set", "sets", multiple=True, metavar="train.KEY=VALUE",
              help="override a train.* setting for every condition")
@click.option("--quiet", is_flag=True, help="no progress bars or progress lines")
def ablate(run_dir, model, out, seeds, conditions, max_steps, device, sets, quiet):
    """Does the synthetic data help? Train the same model on the run's real pairs, its
    curriculum, its unfiltered curriculum and its synthetic rows; compare on the real test set.

    Writes OUT/ablate.json, ablate.md and ablate.png: per condition and seed BLEU, chrF and
    rare-word recall; hybrid - real and hybrid - unfiltered with 95 % intervals and p-values;
    the budget and whether the real-valid curves had flattened; one sentence per question.
    """
    from translate_synth import progress
    from translate_synth.ablate import parse_conditions, run_ablation

    progress.QUIET = quiet
    if max_steps is not None and max_steps < 1:
        raise UserError(f"--max-steps {max_steps}: at least 1")
    rep = run_ablation(Path(run_dir), model, Path(out), seeds=seeds,
                       conditions=parse_conditions(conditions), max_steps=max_steps,
                       device=device, sets=list(sets), log=progress.log)
    for v in rep["verdicts"].values():
        click.echo(v)
    click.echo(f"ablation: {Path(out) / 'ablate.md'}")


GENERATIONS_EPILOG = """\b
Example (tiny and short: 25 s on 2 CPU cores, OMP_NUM_THREADS=1; its tiny models
learn no translation, the loose length-ratio filter lets their output reach round 1):
  translate-synth generations --lang pt --rounds 2 --mix synthetic --model scratch --out gen-out
      --limit 40 --set train.max_steps=40 --set train.max_tokens=1024 --set train.eval_every=10
      --set 'train.scratch={d_model: 64, layers: 1, heads: 2, ffn_dim: 256}'
      --set train.eval_max_new_tokens=32 --set 'filters=[{type: length_ratio, min: 0.2, max: 5}]'
"""


@main.command(epilog=GENERATIONS_EPILOG)
@click.option("--lang", help="target language: picks lang_configs/<lang>.yaml")
@click.option("--config", "config", type=click.Path(), help="a config file instead of the shipped one")
@click.option("--out", default="out", show_default=True,
              help="output root: rounds go to OUT/gen/round-K/, the report to OUT/gen/")
@click.option("--rounds", type=int, default=2, show_default=True,
              help="rounds 0..K-1; round 0 synthesises with the configured model")
@click.option("--mix", type=click.Choice(["hybrid", "synthetic"]), default="hybrid",
              show_default=True, help="hybrid: real pairs in every round's training; synthetic: "
              "none after round 0")
@click.option("--model", default="scratch", show_default=True, metavar="scratch|ID|DIR",
              help="what each round trains: the from-scratch baseline or a pretrained model to "
                   "fine-tune (afresh every round)")
@click.option("--limit", type=int, help="read at most N lines from each input")
@click.option("--seed", type=int, help="seed for splits, sampling and training")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override any config key, train.* included (e.g. train.max_steps=200)")
@click.option("--no-cache", is_flag=True, help="do not read or write the translation cache")
@click.option("--cache-dir", type=click.Path(), help="translation cache location (cache.dir)")
@click.option("--quiet", is_flag=True, help="no progress bars or progress lines")
def generations(lang, config, out, rounds, mix, model, limit, seed, sets, no_cache, cache_dir,
                quiet):
    """Synthesise, train, synthesise with what was trained: K rounds, then a report.

    Each round writes OUT/gen/round-K/ (<lang>/ the run with its collapse.json, model-fwd/ and
    model-rev/ the trained models, eval/eval.json the forward model on the real test set,
    round.json when finished); OUT/gen/generations.{json,md,png} compare the rounds. A finished
    round is not redone: run the same command again to resume or to add rounds.
    """
    if not lang and not config:
        raise UserError("give --lang L (a shipped config) or --config FILE")
    flag_sets = [("cache.enabled=false", "--no-cache")] if no_cache else []
    cfg = resolve_config(lang, config, out, None, None, (), (), (), limit, seed, sets,
                         cache_dir, flag_sets)
    from translate_synth import progress
    from translate_synth.generations import GenerationsStopped, run_generations

    progress.QUIET = quiet
    try:
        rep = run_generations(cfg, Path(out), rounds, mix, model, log=progress.log)
    except GenerationsStopped as e:  # a result, not an input error: the report is written
        click.echo(f"error: {e} (report: {Path(out) / 'gen' / 'generations.md'})", err=True)
        sys.exit(3)
    except (Interrupted, KeyboardInterrupt) as e:  # generations has no --resume: it resumes
        where = f" after {e.where}" if isinstance(e, Interrupted) else ""
        click.echo(f"interrupted{where}: finished rounds, run chunks and training checkpoints "
                   "are kept; run the same command again to resume", err=True)
        sys.exit(130)
    for r in rep["table"]:
        click.echo(f"round {r['round']}: real test chrF {r['real_test_chrf']:.1f}, synthetic "
                   f"valid chrF {(r['synthetic_valid_chrf'] or 0):.1f}, "
                   f"{len(r['alarms'])} collapse alarm(s)")
    click.echo(f"generations: {Path(out) / 'gen' / 'generations.md'}")


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(), help="where to write report.* (default: the run dir, "
              "or the current dir for several runs)")
def report(run_dirs, out):
    """Write report.html/.md/.json for one run (OUT/<lang>) or compare several.

    Evaluation directories (`translate-synth evaluate --out DIR`) may be given beside run
    directories: their models are compared in one table."""
    from translate_synth.report import write_report

    dest = Path(out) if out else (Path(run_dirs[0]) if len(run_dirs) == 1 else Path("."))
    write_report([Path(d) for d in run_dirs], dest)
    click.echo(f"report: {dest / 'report.html'}")


EVALUATE_EPILOG = """\b
MODEL: a hub id or local transformers directory, a directory CTranslate2
converted (model.bin; tokenizer files in it, or --tokenizer), or bergamot.
\b
Examples (run `translate-synth run --lang pt --out out` first):
  translate-synth evaluate bergamot out/pt --out eval/bergamot
  translate-synth evaluate my-model out/pt --out eval/mine --baseline bergamot
  translate-synth report out/pt eval/bergamot eval/mine --out cmp
"""


@main.command(epilog=EVALUATE_EPILOG)
@click.argument("model")
@click.argument("run_dir", type=click.Path())
@click.option("--out", required=True, type=click.Path(),
              help="where eval.json, eval.md and the hypotheses go (never inside RUN_DIR)")
@click.option("--baseline", metavar="MODEL2", help="a second model: scores side by side and "
              "the significance of each difference (sacrebleu's paired test)")
@click.option("--split", type=click.Choice(["test", "valid"]), default="test",
              show_default=True, help="the real held-out set to translate")
@click.option("--direction", type=click.Choice(["forward", "both"]), default="forward",
              show_default=True, help="forward: source_lang -> lang; both: also lang -> "
              "source_lang")
@click.option("--backend", type=BackendChoice(), help="MODEL's backend (default: "
              "transformers; a CTranslate2 directory is detected)")
@click.option("--baseline-backend", type=BackendChoice(), help="MODEL2's backend")
@click.option("--tokenizer", metavar="PATH_OR_ID", help="tokenizer of a CTranslate2 MODEL "
              "directory that has none: the transformers model it was converted from")
@click.option("--baseline-tokenizer", metavar="PATH_OR_ID", help="the same for MODEL2")
@click.option("--paired-test", type=click.Choice(["bs", "ar"]), default="bs", show_default=True,
              help="bs: paired bootstrap resampling; ar: approximate randomisation")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override a key of the run's config, e.g. synthesis.decoding.beam_size=1")
@click.option("--no-cache", is_flag=True, help="do not read or write the translation cache")
@click.option("--cache-dir", type=click.Path(), help="translation cache location (cache.dir)")
@click.option("--quiet", is_flag=True, help="no progress lines")
def evaluate(model, run_dir, out, baseline, split, direction, backend, baseline_backend,
             tokenizer, baseline_tokenizer, paired_test, sets, no_cache, cache_dir, quiet):
    """Translate a run's real held-out set and synthetic valid set with MODEL; score them.

    Writes DIR/eval.json, DIR/eval.md and one hypotheses file per set (line-aligned with the
    set's rows): BLEU, chrF and chrF++ with signatures, rare-word recall against the run's real
    training text, the synthetic-real gap and, with --baseline, paired significance. RUN_DIR
    is only read.
    """
    from translate_synth import progress
    from translate_synth.evaluate import evaluate as do_evaluate
    from translate_synth.report.evaluations import gap_words, recall_words

    progress.QUIET = quiet
    ev = do_evaluate(model, Path(run_dir), Path(out), baseline=baseline, split=split,
                     direction=direction, backend=backend, baseline_backend=baseline_backend,
                     tokenizer=tokenizer, baseline_tokenizer=baseline_tokenizer,
                     sets=list(sets), paired_test=paired_test, cache_dir=cache_dir,
                     no_cache=no_cache, log=progress.log)
    from translate_synth.report.wording import num

    for d in ev["directions"].values():
        for name, e in d["sets"].items():
            sc, rw = e["scores"], e["rare_words"]
            click.echo(f"{d['source_lang']}->{d['target_lang']} {name} ({e['rows']:,} rows): "
                       f"BLEU {num(sc['bleu'])}, chrF {num(sc['chrf'])}, chrF++ "
                       f"{num(sc['chrf++'])}; recall of rare words "
                       f"{recall_words(rw['rare'])}, unseen {recall_words(rw['unseen'])}, "
                       f"frequent {recall_words(rw['frequent'])}")
            for m, v in ((e.get("significance") or {}).get("metrics") or {}).items():
                click.echo(f"  vs baseline {m}: {num(v['baseline'])} -> {num(v['model'])}, "
                           f"p = {v['p_value']:.3g}")
        click.echo(f"{d['source_lang']}->{d['target_lang']}: {gap_words(d['gap'])}")
    for n in ev["notes"]:
        click.echo(f"note: {n}", err=True)
    click.echo(f"evaluation: {Path(out) / 'eval.json'}")


EXPORT_EPILOG = """\b
Examples (run `translate-synth run --lang pt --out out` first):
  translate-synth export out/pt --format hf --out export/pt-hf
  translate-synth export out/pt --format text --out export/pt-text --tag-bt
  translate-synth export out/pt --format tsv --out export/pt-tsv
"""


@main.command(epilog=EXPORT_EPILOG)
@click.argument("run_dir", type=click.Path())
@click.option("--format", "fmt", required=True, type=click.Choice(["hf", "text", "tsv"]),
              help="hf: a datasets DatasetDict (save_to_disk); text: <split>.<lang> files, "
                   "line-aligned; tsv: <split>.tsv, source<TAB>target")
@click.option("--out", required=True, type=click.Path(), metavar="DIR",
              help="where the export goes (never inside RUN_DIR; an earlier export there is "
                   "replaced)")
@click.option("--tag-bt/--no-tag-bt", "tag_bt", default=None,
              help="prefix every back-translated (bt) source with --bt-tag, once (tagged "
                   "back-translation); --no-tag-bt: no tag, the run's removed (default: as "
                   "the run did, curriculum.tag_bt)")
@click.option("--bt-tag", metavar="TAG", help="the tag (default '<BT>'); implies --tag-bt")
@click.option("--quiet", is_flag=True, help="no progress lines")
def export(run_dir, fmt, out, tag_bt, bt_tag, quiet):
    """Write a finished run's training files (OUT/<lang>) as trainers read them.

    Every split (train, valid, test, valid_synthetic) and curriculum stage (train.<stage>.jsonl):
    hf a DatasetDict with a `translation` column ({source_lang: .., lang: ..}) and `origin`;
    text and tsv one pair a line, with <stem>.origin beside. RUN_DIR is only read.
    """
    from translate_synth import progress
    from translate_synth.export import DEFAULT_TAG, export_run, summary_line

    progress.QUIET = quiet
    if bt_tag is not None and tag_bt is False:
        raise UserError("--bt-tag with --no-tag-bt: drop one of them")
    tag = None if tag_bt is None and bt_tag is None else \
        ("" if tag_bt is False else (bt_tag or DEFAULT_TAG))
    info = export_run(Path(run_dir), fmt, Path(out), tag=tag, log=progress.log)
    click.echo(summary_line(info, Path(out)))


@main.command()
@click.option("--langs", "langs_", required=True, help="comma-separated, e.g. sw,yo,ha")
@click.option("--config-dir", type=click.Path(), help="configs <lang>.yaml (default: shipped)")
@click.option("--out", default="out", show_default=True, help="output root")
@click.option("--jobs", type=int, default=1, show_default=True, help="languages at a time")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override for every language")
@click.option("--limit", type=int, help="read at most N lines from each input")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="ray: one task per language on the Ray cluster")
@click.option("--ray-address", help="join this Ray cluster")
@click.option("--model", metavar="ID_OR_PATH",
              help="hub id or local model directory for every language, as `run --model` "
                   "(model.id; clears model.ids; without a ctranslate2 config, the "
                   "transformers backend)")
@click.option("--no-report", is_flag=True,
              help="do not write each language's OUT/<lang>/report.html (the cross-language "
                   "OUT/report.html is still written)")
def batch(langs_, config_dir, out, jobs, sets, limit, executor, ray_address, model, no_report):
    """Run several languages; continue past failures; write OUT/summary.{json,md} + report.

    Each language gets what `run` writes, its OUT/<lang>/report.html included."""
    from translate_synth.batch import run_batch

    extra = [a for s in sets for a in ("--set", s)]
    if limit is not None:
        extra += ["--limit", str(limit)]
    if model:
        extra += ["--model", model]
    if no_report:
        extra += ["--no-report"]
    langs_list = [x.strip() for x in langs_.split(",") if x.strip()]
    def resolve(path):  # on Ray: each language's config with run's flag rules (--model...)
        return resolve_config(None, str(path), None, model, None, (), (), (), limit, None,
                              list(sets))

    summary = run_batch(langs_list, Path(out), Path(config_dir) if config_dir else None, jobs,
                        extra, echo=click.echo, executor=executor, sets=list(sets),
                        limit=limit, ray_address=ray_address, resolve=resolve,
                        report=not no_report)
    if summary["failed"]:
        click.echo("error: failed: " + "; ".join(
            f"{r['lang']} ({r['error']})" for r in summary["languages"] if r["status"] != "ok"),
            err=True)
        sys.exit(1)


@main.command()
def langs():
    """List the shipped language configs and their codes per model family."""
    from translate_synth.summary import print_langs

    print_langs()


@main.command()
@click.argument("config_file", type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override a key before checking, as `run --set` does (repeatable), e.g. "
                   "--set filters.rt_chrf.min=40")
def validate(config_file, sets):
    """Check a config file as `run` does before any work; exit 0 when valid, 2 with the first
    problem otherwise: keys and value ranges, languages against the backend and model, model
    paths, input files present and readable. No model is loaded."""
    from translate_synth.config import load_config
    from translate_synth.filters import build_filters
    from translate_synth.preflight import check_run

    cfg = load_config(Path(config_file), list(sets))
    check_run(cfg)
    n = len(build_filters(cfg.filters))  # the funnel's rows, as `run` prints them
    click.echo(f"ok: {config_file} (lang {cfg.lang}, backend {cfg.model.backend}, {n} filters: "
               f"{len(cfg.filters)} configured, {n - len(cfg.filters)} always added)")
    if not any(getattr(cfg.data, k) for k in ("parallel", "source_mono", "target_mono")):
        click.echo("note: no input in data.*: give `run` --parallel, --source-mono or "
                   "--target-mono", err=True)


if __name__ == "__main__":
    main()

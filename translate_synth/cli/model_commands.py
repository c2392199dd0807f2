"""The commands that train and judge models on a finished run: train, ablate, generations,
evaluate."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from translate_synth.cli.flags import BackendChoice, resolve_config
from translate_synth.errors import Interrupted, UserError


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


@click.command(epilog=TRAIN_EPILOG)
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

    progress.set_quiet(quiet)
    overrides: list = list(sets)
    if max_steps is not None:
        overrides.append((f"train.max_steps={max_steps}", f"--max-steps {max_steps}"))
    got = train_model(Path(run_dir), model, Path(out), overrides, resume=resume,
                      stop_on_divergence=stop_on_divergence, track=track)
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


@click.command(epilog=ABLATE_EPILOG)
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

    progress.set_quiet(quiet)
    if max_steps is not None and max_steps < 1:
        raise UserError(f"--max-steps {max_steps}: at least 1")
    rep = run_ablation(Path(run_dir), model, Path(out), seeds=seeds,
                       conditions=parse_conditions(conditions), max_steps=max_steps,
                       device=device, sets=list(sets))
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


@click.command(epilog=GENERATIONS_EPILOG)
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

    progress.set_quiet(quiet)
    try:
        rep = run_generations(cfg, Path(out), rounds, mix, model)
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


EVALUATE_EPILOG = """\b
MODEL: a hub id or local transformers directory, a directory CTranslate2
converted (model.bin; tokenizer files in it, or --tokenizer), or bergamot.
\b
Examples (run `translate-synth run --lang pt --out out` first):
  translate-synth evaluate bergamot out/pt --out eval/bergamot
  translate-synth evaluate my-model out/pt --out eval/mine --baseline bergamot
  translate-synth report out/pt eval/bergamot eval/mine --out cmp
"""


@click.command(epilog=EVALUATE_EPILOG)
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

    progress.set_quiet(quiet)
    ev = do_evaluate(model, Path(run_dir), Path(out), baseline=baseline, split=split,
                     direction=direction, backend=backend, baseline_backend=baseline_backend,
                     tokenizer=tokenizer, baseline_tokenizer=baseline_tokenizer,
                     sets=list(sets), paired_test=paired_test, cache_dir=cache_dir,
                     no_cache=no_cache)
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

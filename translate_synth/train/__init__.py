"""Training on what a run emits: ``translate-synth train RUN_DIR --model ID|DIR|scratch --out DIR``.

    data.py         the run's curriculum stages, valid sets and step schedule (pure, no torch)
    scratch.py      the from-scratch baseline: joint sentencepiece + a small Marian model
    model_setup.py  the model loaded by the transformers backend, its precision, token ids
    steps.py        one optimisation step: batches as tensors, the loss, AdamW, the lr schedule
    evaluation.py   an evaluation on the real and synthetic valid sets
    watch.py        best checkpoint, early stopping, divergence alarm, curves (pure, no torch)
    trend.py        the alarm's statistic: per-row rise over the window, bootstrap interval
    checkpoints.py  checkpoints (every torch.save / torch.load), the output dir and resume check
    session.py      what a training trains, from, with and on (TrainingSession)
    trainer.py      the loop over stages and steps (Trainer), ``train_model``
    model_dir.py    MODEL_DIR at the end: the best model, train_log.jsonl, curves, train.json

Rare-word recall comes from ``translate_synth.rarewords`` (shared with ``evaluate``), corpus
scores from ``translate_synth.metrics``, Comet from ``translate_synth.tracking``.
Importing this package imports neither torch nor transformers (they load when a Trainer is
made).
"""

from translate_synth.train.data import RunData, allocate_steps, load_run, stale_cap
from translate_synth.train.trainer import TrainInterrupted, Trainer, train_model

__all__ = ["RunData", "TrainInterrupted", "Trainer", "allocate_steps", "load_run", "stale_cap",
           "train_model"]

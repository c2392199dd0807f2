"""Training on what a run emits: ``translate-synth train RUN_DIR --model ID|DIR|scratch --out DIR``.

    data.py     the run's curriculum stages, valid sets and step schedule (pure, no torch)
    scratch.py  the from-scratch baseline: joint sentencepiece + a small Marian model
    watch.py    best checkpoint, early stopping, divergence alarm, curves (pure, no torch)
    trend.py    the alarm's statistic: per-row rise over the window, bootstrap interval
    trainer.py  the training loop, checkpoints and resume, MODEL_DIR

Rare-word recall comes from ``translate_synth.rarewords`` (shared with ``evaluate``).
Importing this package imports nothing heavy: ``from translate_synth.train.trainer import
train_model``.
"""

"""The ``train:`` section of the config schema (``translate-synth train``): the budget, the
evaluation, the divergence alarm and the from-scratch model's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from translate_synth.config.schema_base import MAX_SEED, Strict, check_device


class ScratchShape(Strict):
    """The from-scratch baseline (``train --model scratch``): a joint sentencepiece model on the
    run's training text and a transformers Marian model of this shape."""

    vocab_size: int = Field(8000, ge=100, le=256000, description="joint sentencepiece "
                            "vocabulary (unigram); fewer pieces when the text is too small")
    d_model: int = Field(256, ge=8, description="embedding and hidden size")
    layers: int = Field(3, ge=1, le=24, description="encoder layers, and as many decoder layers")
    heads: int = Field(4, ge=1, description="attention heads (d_model must divide by it)")
    ffn_dim: int = Field(1024, ge=8, description="feed-forward size")
    dropout: float = Field(0.3, ge=0, lt=1, description="dropout (also on attention weights "
                           "and activations: attention_dropout and activation_dropout 0.1)")
    max_positions: int = Field(512, ge=16, description="position table size (longest input "
                               "and output, in tokens)")

    @model_validator(mode="after")
    def _heads(self):
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} does not divide by heads {self.heads}")
        return self


class DivergenceConfig(Strict):
    """The alarm of ``translate-synth train``: the model gets better on synthetic text only
    (``train/watch.py``; measured by ``eval/divergence.py``)."""

    delta: float = Field(2.0, gt=0, le=100, description="mean sentence chrF points the synthetic valid "
                         "set must rise by over `window` evaluations (fitted line)")
    window: int = Field(3, ge=1, description="evaluations before the current one the trend "
                        "is fitted over")
    real_delta: float = Field(0.5, ge=0, le=100, description="the real valid set 'has not risen' when "
                              "the interval of its fitted rise over the same evaluations "
                              "starts below this")
    min_rows: int = Field(50, ge=1, description="below this many rows in either valid set the "
                          "alarm does not judge (says so and counts it)")
    bootstrap: int = Field(1000, ge=100, le=100000, description="bootstrap resamples of the "
                           "valid rows for the trend's interval")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="two-sided level of that "
                              "interval; the gap's must lie above zero")


class TrainConfig(Strict):
    """``translate-synth train RUN_DIR --model ID|DIR|scratch --out MODEL_DIR`` (README,
    Training on what it emits)."""

    max_steps: int | None = Field(None, ge=1, description="optimizer steps over all stages "
                                  "(--max-steps), shared as stage_budget says; null: `epochs` "
                                  "passes over each stage")
    epochs: float = Field(10, gt=0, description="passes over each stage when max_steps is null")
    stage_steps: dict[str, int] = Field({}, description="steps of a named curriculum stage, "
                                        "taken out of max_steps before the rest is split")
    stage_budget: Literal["rows", "equal", "stale"] = Field(
        "rows", description="how max_steps is shared by the other stages: rows (by their rows), "
        "equal (equal shares), stale (each until its real valid stops improving for `patience` "
        "evaluations, capped; unused steps go to later stages)")
    max_tokens: int = Field(4096, ge=16, description="token budget of a batch: rows x longest "
                            "side (padded), length-bucketed")
    max_len: int = Field(256, ge=4, description="sources and targets are cut to this many "
                         "tokens")
    lr: float | None = Field(None, gt=0, description="peak learning rate; null: 5e-4 from "
                             "scratch, 5e-5 fine-tuning")
    warmup_steps: int = Field(1000, ge=0, description="linear warm-up, at most a tenth of the "
                              "steps; then inverse square root decay")
    weight_decay: float = Field(0.01, ge=0, description="AdamW decoupled weight decay")
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    clip_norm: float = Field(1.0, ge=0, description="gradient norm clipping (0: off)")
    eval_every: int = Field(500, ge=1, description="evaluate (and checkpoint) every N steps, "
                            "and at the end of each stage")
    eval_at_start: bool | None = Field(None, description="evaluate before the first step; "
                                       "null: when fine-tuning (the pretrained baseline)")
    eval_max_rows: int = Field(500, ge=1, description="rows of each valid set evaluated")
    eval_beam: int = Field(1, ge=1, le=16, description="beam size of the evaluation decoding")
    eval_max_new_tokens: int = Field(256, ge=1, description="longest evaluation output")
    log_every: int = Field(50, ge=1, description="a training-loss line in train_log.jsonl "
                           "every N steps")
    patience: int = Field(5, ge=0, description="evaluations without a better real valid "
                          "score end the stage (the last: training); 0: never")
    select: Literal["chrf", "bleu", "loss"] = Field("chrf", description="real valid score that "
                                                    "picks the best checkpoint")
    rare_k: int | None = Field(None, ge=1, description="rare-word recall: rare = seen <= k "
                               "times in the real training text; null: collapse.rare_k")
    divergence: DivergenceConfig = DivergenceConfig()
    reverse: bool = Field(False, description="train lang -> source_lang instead")
    family: Literal["auto", "nllb", "m2m100", "mbart50", "madlad", "marian"] = "auto"
    device: str = Field("auto", description="auto (CUDA when present), cpu, cuda, cuda:N")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on CUDA that has it, else fp16 there; fp32 on CPU")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="null: the run's seed")
    keep_checkpoints: bool = Field(False, description="keep MODEL_DIR/checkpoints/ at the end")
    scratch: ScratchShape = ScratchShape()

    _device = field_validator("device")(classmethod(lambda cls, v: check_device(v)))

    @field_validator("stage_steps")
    @classmethod
    def _steps(cls, v):
        for k, n in v.items():
            if n < 0:
                raise ValueError(f"stage_steps.{k}: steps must be >= 0")
        return v

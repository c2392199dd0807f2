"""A training's fixed parts, the base of ``trainer.Trainer`` (the loop): the identity a resume
must match and the output directory's check, the model loaded (``model_setup.py``), each
stage's token ids, batch streams and steps (``data.py``), the valid sets and their evaluation
(``evaluation.py``), and checkpoints (``checkpoints.py``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from translate_synth.errors import UserError
from translate_synth.train import model_setup
from translate_synth.train.checkpoints import (STATE_VERSION, Checkpoints, check_out,
                                               device_kind, write_checkpoint, write_log)
from translate_synth.train.data import RunData, StageStream, allocate_steps
from translate_synth.train.evaluation import evaluate_sets
from translate_synth.train.steps import Stepper

log = logging.getLogger(__name__)

SCRATCH_LR, FINETUNE_LR = 5e-4, 5e-5


class TrainingSession:
    """What ``Trainer`` trains, from, with and on; how it evaluates and checkpoints."""

    def __init__(self, data: RunData, model_spec: str, out: Path, resume: bool,
                 stop_on_divergence: bool, track: str | None,
                 scratch_vocab: Path | None = None):
        import torch

        self.torch = torch
        self.data, self.cfg, self.t = data, data.cfg, data.cfg.train
        self.model_spec, self.out = model_spec, Path(out)
        self.stop_on_divergence = stop_on_divergence
        self.scratch = model_spec == "scratch"
        # a sentencepiece model given (ablate: one vocabulary for every condition) or None
        self.scratch_vocab = Path(scratch_vocab) if scratch_vocab and self.scratch else None
        self.seed = self.t.seed if self.t.seed is not None else self.cfg.seed
        self.ckpts = Checkpoints(self.out / "checkpoints")
        self.track = track if track is not None else self.cfg.tracking
        from translate_synth.backends.hf import pick_device

        # the device resolved (never `auto`): a checkpoint resumes only on the same kind of
        # device; the resolved precision joins the identity once the model is loaded (load)
        self.device_resolved = pick_device(self.t.device)
        self.identity = {"version": STATE_VERSION, "run": str(data.run_dir.resolve()),
                         "data": data.shas, "model": model_spec,
                         "direction": f"{data.src}-{data.tgt}",
                         # device and precision as resolved (below), not as asked: `auto` on
                         # a GPU and `cuda` there are the same training
                         "train": self.t.model_dump(mode="json", exclude={
                             "keep_checkpoints", "device", "precision"}),
                         "device": device_kind(self.device_resolved)}
        if self.t.stage_budget == "rows":  # the default: checkpoints from before the key resume
            self.identity["train"].pop("stage_budget")
        if self.scratch_vocab is not None:
            from translate_synth.emit import file_sha256

            self.identity["scratch_vocab"] = file_sha256(self.scratch_vocab)
        self.resume_from, self.resume_identity = check_out(
            self.out, self.ckpts, self.identity, resume, self.device_resolved)

    # ------------------------------------------------------------ model and data
    def translator(self, model_dir: str, same_model: bool = False):
        """The transformers backend for ``model_dir`` (``model_setup.translator_for``)."""
        return model_setup.translator_for(self.cfg, self.t.family, self.device_resolved,
                                          model_dir, same_model)

    def load(self) -> None:
        """The model to train (a checkpoint's when resuming), its tokenizer, family, device and
        precision, and what train.json says of it (``model_info``)."""
        torch, d, t = self.torch, self.data, self.t
        self.model_info: dict = {"init": self.model_spec}
        if self.resume_from is not None:
            src_dir = self.resume_from
        elif self.scratch:
            src_dir, info = model_setup.build_scratch_init(
                self.out, d, t, self.seed, self.cfg.curriculum.tag_bt and not t.reverse,
                self.scratch_vocab)
            self.model_info.update(info)
        else:
            src_dir = self.model_spec
        same = self.model_spec in ({self.cfg.model.id, *self.cfg.model.ids.values()} - {None})
        self.tr = self.translator(str(src_dir), same_model=same)
        if self.resume_from is not None:
            self.model_info = self.resume_state()["model_info"]
        else:
            m = self.tr.mcfg
            self.model_info["settings"] = model_setup.model_settings(m, same)
            log.info(f"train: from the run: languages {d.src}->{d.tgt}, language codes, "
                     f"curriculum, valid sets, BLEU tokenisation; from the model: revision "
                     f"{m.revision or 'default'}, remote code "
                     f"{'trusted' if m.trust_remote_code else 'not trusted'}")
        self.tok, self.model, self.prefix, self.family = model_setup.load_model(
            self.tr, d.src, d.tgt, src_dir)
        self.device = self.tr.device
        self.frozen_rows = model_setup.frozen_pad_rows(self.model, self.tok, self.family)
        self.model_info.update({"family": self.family, "model_type": self.model.config.model_type,
                                "parameters": sum(p.numel() for p in self.model.parameters())})
        if self.scratch:
            self.model_info["shape"] = model_setup.scratch_shape(t.scratch)
        self.max_len = model_setup.max_len_of(self.model, self.family, t.max_len)
        prec = model_setup.precision_for(
            torch, t.precision, self.device, self.model, self.family,
            self.resume_identity if self.resume_from is not None else None)
        self.identity["precision"] = prec
        self.precision = prec
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(prec)
        self.scaler = torch.amp.GradScaler("cuda") if prec == "fp16" else None

    def resume_state(self) -> dict:
        """state.json of the checkpoint resumed from."""
        return json.loads((self.resume_from / "state.json").read_text(encoding="utf-8"))

    def encode(self, pairs: list[tuple[str, str]]):
        """(source ids, target ids) of ``pairs`` (``model_setup.encode``)."""
        return model_setup.encode(self.tok, self.prefix, self.max_len, pairs)

    def prepare(self) -> None:
        """Token ids and batch streams of every stage, the steps of each (``allocate_steps``),
        the learning rate, the valid sets and the rare-word counts."""
        d, t = self.data, self.t
        self.enc, self.streams, sizes, epb = [], [], [], []
        for st in d.stages:
            s_ids, t_ids = self.encode(st.pairs)
            self.enc.append((s_ids, t_ids))
            lengths = np.array([max(len(a), len(b)) for a, b in zip(s_ids, t_ids)] or [0],
                               dtype=np.int64)[:len(s_ids)]
            stream = StageStream(lengths, t.max_tokens, self.seed, st.name)
            self.streams.append(stream)
            sizes.append(len(st.pairs))
            epb.append(stream.batches_per_epoch() if st.pairs else 0)
        self.alloc = allocate_steps(sizes, [s.name for s in d.stages], t.max_steps,
                                    t.stage_steps, epb, t.epochs, t.stage_budget)
        self.total = sum(self.alloc)
        if self.total == 0:
            raise UserError("train: 0 steps to take (train.stage_steps sets every stage to 0)")
        self.epoch_batches = epb
        self.warmup = min(t.warmup_steps, self.total // 10)
        self.lr = t.lr or (SCRATCH_LR if self.scratch else FINETUNE_LR)
        n = t.eval_max_rows
        self.evalsets = {}
        for name, pairs in (("real", d.valid[:n]), ("synthetic", d.valid_synthetic[:n])):
            s_ids, t_ids = self.encode(pairs)
            self.evalsets[name] = (pairs, s_ids, t_ids)
        from translate_synth.rarewords import train_counts

        self.counts = train_counts(d.real_target_texts)
        self.rare_k = t.rare_k or self.cfg.collapse.rare_k
        self.stepper = Stepper(self.torch, self.model, self.tok.pad_token_id, self.device,
                               self.amp_dtype, self.scaler, self.frozen_rows, t, self.lr,
                               self.warmup)
        self.opt = self.stepper.optimizer()

    def evaluate(self) -> dict:
        """Valid loss, BLEU, chrF on both sets; rare-word recall on the real one."""
        ev, self.signatures = evaluate_sets(self.stepper, self.tr, self.evalsets, self.data.src,
                                            self.data.tgt, self.t, self.cfg.scoring,
                                            self.counts, self.rare_k)
        return ev

    # ------------------------------------------------------------ checkpoints
    def state(self, step: int, pos: tuple[int, int], stopped: str | None) -> dict:
        """state.json: where the loop is and what it carries."""
        return {"identity": self.identity, "step": step, "stage_index": pos[0],
                "step_in_stage": pos[1], "stopped": stopped, "watch": self.watch.state(),
                "window": self.window, "since_eval": self.since_eval,
                "stage_log": self.stage_log, "alloc": self.alloc,
                "model_info": self.model_info, "resumed_at": self.resumed_at,
                "elapsed_s": self.elapsed()}

    def save(self, step: int, pos, best: bool, stopped: str | None = None) -> None:
        """A checkpoint of ``step`` (``pos``: the stage and its steps done), and the log."""
        self.ckpts.save(step, lambda d: write_checkpoint(
            d, self.model, self.tok, self.opt, self.scaler, self.entries,
            lambda: self.state(step, pos, stopped)), best)
        write_log(self.out / "train_log.jsonl", self.entries)


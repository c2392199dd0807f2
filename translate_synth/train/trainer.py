"""``translate-synth train``: fine-tune a pretrained seq2seq model, or train the from-scratch
baseline, on a run's curriculum, watching real and synthetic valid sets.

A plain PyTorch loop over a transformers model, not ``Seq2SeqTrainer``: the batch of every step
is a pure function of (seed, data, step) (``data.py``), the learning rate a pure function of the
step (``steps.py``), and a checkpoint (``checkpoints.py``) holds the weights, the AdamW state,
the RNG states and the log, so a resumed run repeats exactly the steps, batches, dropout masks
and log lines of an uninterrupted one. Token-budget batches and stages fed strictly in order are
a few lines here; with the Trainer they would be a custom sampler, a custom collator and a
callback that switches datasets, and its resume replays the data loader rather than the
schedule.

Here: the loop over the stages and their steps, evaluating (``evaluation.py``) and
checkpointing every ``train.eval_every`` steps and at each stage end, and what the watch
(``watch.py``) decides from it. What it trains, from, with and on is ``session.py``'s
``TrainingSession`` (the model loaded by ``model_setup.py``); MODEL_DIR is written
by ``model_dir.py``: the best checkpoint by real valid ``train.select`` (model + tokenizer, a
normal ``save_pretrained`` directory), ``train_log.jsonl`` (a ``train`` line every
``log_every`` steps, an ``eval`` line at every evaluation), ``train.json`` (summary, written
last) and ``curves.png``; ``checkpoints/`` while training (removed at the end unless
``train.keep_checkpoints``).
"""

from __future__ import annotations

import logging
import signal
import time
from contextlib import contextmanager
from pathlib import Path

from translate_synth import progress
from translate_synth.errors import Interrupted, UserError
from translate_synth.faults import checkpoint as fault_point
from translate_synth.train.checkpoints import read_checkpoint
from translate_synth.train.data import load_run, stale_cap
from translate_synth.train.evaluation import eval_line
from translate_synth.train.model_dir import write_model_dir
from translate_synth.train.session import TrainingSession
from translate_synth.train.steps import lr_at
from translate_synth.train.watch import Watch

log = logging.getLogger(__name__)

# the start line's note on how the steps are shared (none for the default, rows)
BUDGET_NOTE = {"equal": " (train.stage_budget equal: equal shares)",
               "stale": " if no stage stops early (train.stage_budget stale: each stage until "
                        "its real valid score has not improved for {patience} evaluations; the "
                        "steps it leaves go to the later stages)"}


class TrainInterrupted(Interrupted):
    """Ctrl-C during training: stopped after a step, with a checkpoint of that step."""

    def __init__(self, step: int):
        self.where = f"step {step}"
        Exception.__init__(self, f"training stopped after step {step}; a checkpoint of that step "
                           "is saved: run the same command with --resume to continue")


@contextmanager
def sigint_flag():
    """A one-item list set to True at the first Ctrl-C (the loop stops after the step it is
    in, with a checkpoint); a second Ctrl-C raises KeyboardInterrupt at once."""
    hit = [False]

    def on_sigint(signum, frame):
        if hit[0]:
            raise KeyboardInterrupt
        hit[0] = True

    try:
        old_handler = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: Ctrl-C is the caller's business
        old_handler = None
    try:
        yield hit
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)


class Trainer(TrainingSession):
    """``translate-synth train``'s loop over the stages and their steps (``run``)."""

    # ------------------------------------------------------------ the loop
    def start(self) -> tuple[int, int, int, str | None]:
        """Load, prepare, restore a checkpoint or start afresh, say what will run; (step, stage
        index, steps done in it, why it stopped or None)."""
        torch, t, d = self.torch, self.t, self.data
        if self.resume_from is None:
            torch.manual_seed(self.seed)
        self.load()
        self.prepare()
        div = t.divergence
        wkw = dict(select=t.select, patience=t.patience, delta=div.delta, window=div.window,
                   real_delta=div.real_delta, min_rows=div.min_rows, bootstrap=div.bootstrap,
                   confidence=div.confidence, seed=self.seed)
        self.entries: list[dict] = []
        self.window = {"loss": 0.0, "steps": 0, "tokens": 0, "rows": 0}
        self.since_eval = {"loss": 0.0, "steps": 0}
        self.stage_log: dict = {}
        self.resumed_at: list[int] = []
        self.signatures: dict = {}
        elapsed0 = 0.0
        if self.resume_from is not None:
            state, self.entries = read_checkpoint(self.resume_from, self.opt, self.scaler,
                                                  self.device)
            self.watch = Watch.from_state(state["watch"], **wkw)
            self.window, self.stage_log = state["window"], state["stage_log"]
            self.alloc = state.get("alloc", self.alloc)
            self.since_eval = state["since_eval"]
            self.resumed_at = state["resumed_at"] + [state["step"]]
            pos = state["step"], state["stage_index"], state["step_in_stage"], state.get("stopped")
            elapsed0 = state["elapsed_s"]
            log.info(f"train: resuming at step {pos[0]} of {self.total:,} "
                     f"({self.resume_from.name})")
        else:
            self.watch = Watch(**wkw)
            pos = 0, 0, 0, None
        why = self.watch.cannot_judge(*(len(self.evalsets[k][0]) for k in ("real", "synthetic")))
        if why:
            log.info(f"train: divergence alarm: {why}; every evaluation will say so")
        t0 = time.perf_counter()
        self.elapsed = lambda: round(elapsed0 + time.perf_counter() - t0, 2)
        self.start_tracking()
        log.info(f"train: {d.src}->{d.tgt}, {self.family} ({self.model_info['parameters']:,} "
                 f"parameters) on {self.device} ({self.precision}); {self.total:,} steps: " +
                 ", ".join(f"{s.name} {n:,}" for s, n in zip(d.stages, self.alloc)) +
                 BUDGET_NOTE.get(t.stage_budget, "").format(patience=t.patience))
        start_eval = t.eval_at_start if t.eval_at_start is not None else not self.scratch
        if self.resume_from is None and start_eval:
            self.eval_and_checkpoint(0, d.stages[0].name, (0, 0), stage_done=False)
        return pos

    def start_tracking(self) -> None:
        """``--track comet``: the experiment, with the evaluations a resumed log holds."""
        self.comet = None
        if self.track == "comet":
            from translate_synth.tracking import TrainingExperiment

            d = self.data
            self.comet = TrainingExperiment(self.out, self.params(),
                                            f"{d.src}-{d.tgt}-{self.model_spec}")
            for e in self.entries:
                if e["kind"] == "eval":
                    self.comet.log(e)

    def run(self) -> dict:
        """Train to the end (or an early stop, or the divergence alarm with
        ``--stop-on-divergence``); write MODEL_DIR; return train.json's content."""
        step, si0, done0, stopped = self.start()
        bar = progress.bar("train", total=self.total, unit="steps", initial=step)
        self.last_eval = (time.perf_counter(), step)
        try:
            with sigint_flag() as hit:
                for si in range(si0, len(self.data.stages)):
                    if stopped:
                        break
                    step, stopped = self.train_stage(si, step, done0 if si == si0 else 0,
                                                     bar, hit)
        finally:
            bar.close()
        return write_model_dir(self, step, stopped or "max_steps")

    def stage_start(self, si: int, step: int, done: int) -> dict:
        """Stage ``si`` starts (or resumes after ``done`` of its steps) at ``step``: its cap
        (``stage_budget`` stale), its batch stream, its train.json entry."""
        d, t = self.data, self.t
        stage = d.stages[si]
        if t.stage_budget == "stale" and stage.name not in self.stage_log:
            sizes = [len(s.pairs) for s in d.stages]
            cap = stale_cap(si, step, sizes, [s.name for s in d.stages], t.max_steps,
                            t.stage_steps)
            self.alloc[si] = cap
            if si and sizes[si]:
                log.info(f"train: stage {stage.name}: up to {cap:,} steps (the earlier "
                         f"stages took {step:,} of {t.max_steps:,})")
        self.streams[si].rewind_to(done)
        return self.stage_log.setdefault(stage.name, {
            "rows": len(stage.pairs), "steps_planned": self.alloc[si], "steps": 0,
            "first_step": None, "last_step": None, "epochs": 0.0, "stopped_early": False})

    def train_stage(self, si: int, step: int, done: int, bar, hit) -> tuple[int, str | None]:
        """The steps of stage ``si`` from ``done`` on; (the last step, why training stopped or
        None to go on)."""
        t, stage = self.t, self.data.stages[si]
        sl = self.stage_start(si, step, done)
        steps_i = self.alloc[si]
        last = si == len(self.data.stages) - 1
        while done < steps_i:
            epoch, idx = next(self.streams[si])
            step += 1
            done += 1
            loss, ntok = self.stepper.step(step, *self.enc[si], idx)
            self.count_step(step, done, si, epoch, idx, loss, ntok, sl, bar)
            stage_end = done == steps_i
            evaluated = False
            if step % t.eval_every == 0 or stage_end:
                now = time.perf_counter()
                rate = (step - self.last_eval[1]) / max(now - self.last_eval[0], 1e-9)
                res = self.eval_and_checkpoint(step, stage.name, (si, done), stage_end,
                                               rate=rate, last_stage=last)
                self.last_eval = (time.perf_counter(), step)
                evaluated = True
                if res["stop"] == "divergence":
                    return step, "divergence"
                if res["stop"] == "patience":
                    sl["stopped_early"] = True
                    return step, "early_stopping" if last else None
            if hit[0]:
                if not evaluated:
                    self.save(step, (si, done), best=False)
                raise TrainInterrupted(step)
        return step, None

    def count_step(self, step: int, done: int, si: int, epoch: int, idx: list[int],
                   loss: float, ntok: int, sl: dict, bar) -> None:
        """One step's loss and sizes into the running sums, the stage's entry, the progress
        bar, and a ``train`` log line every ``train.log_every`` steps and at the stage end."""
        self.since_eval["loss"] += loss
        self.since_eval["steps"] += 1
        w = self.window
        w["loss"] += loss
        w["steps"] += 1
        w["tokens"] += ntok
        w["rows"] += len(idx)
        sl["steps"] = done
        sl["first_step"] = sl["first_step"] or step
        sl["last_step"] = step
        sl["epochs"] = round(done / max(self.epoch_batches[si], 1), 3)
        bar.update(1)
        stage = self.data.stages[si].name
        if step % self.t.log_every == 0 or done == self.alloc[si]:
            self.entries.append({
                "kind": "train", "step": step, "stage": stage, "epoch": epoch,
                "loss": round(w["loss"] / w["steps"], 5),
                "lr": lr_at(step, self.lr, self.warmup), "steps": w["steps"],
                "rows": w["rows"], "tokens": w["tokens"]})
            bar.set_postfix(stage=stage, loss=f"{w['loss'] / w['steps']:.3f}")
            self.window = {"loss": 0.0, "steps": 0, "tokens": 0, "rows": 0}

    def eval_and_checkpoint(self, step: int, stage: str, pos, stage_done: bool,
                            rate: float | None = None, last_stage: bool = False) -> dict:
        """Evaluate, log, let the watch decide, checkpoint; the watch's answer with ``stop``:
        None, "divergence" or "patience"."""
        te = time.perf_counter()
        ev = self.evaluate()
        res = self.watch.update(step, stage, ev["real"], ev["synthetic"], ev["rows"])
        stop = None
        if step and res["alarm"] and self.stop_on_divergence:
            stop = "divergence"
        elif step and res["stop_stage"]:
            stop = "patience"
        se = self.since_eval
        entry = {"kind": "eval", "step": step, "stage": stage,
                 "lr": lr_at(step, self.lr, self.warmup) if step else 0.0,
                 "train_loss": round(se["loss"] / se["steps"], 5) if se["steps"] else None,
                 "real": ev["real"], "synthetic": ev["synthetic"], "best": res["best"],
                 "alarm": res["alarm"] is not None, "divergence": res["divergence"],
                 "time": {"elapsed_s": self.elapsed(), "eval_s": round(time.perf_counter() - te, 2),
                          "steps_per_s": round(rate, 4) if rate else None}}
        self.entries.append(entry)
        self.since_eval = {"loss": 0.0, "steps": 0}
        if self.comet:
            self.comet.log(entry)
        log.info(eval_line(step, stage, ev, res))
        finished = stage_done or stop is not None
        if stop == "patience":  # in the checkpoint below, so a resume from it knows
            self.stage_log.setdefault(stage, {})["stopped_early"] = True
        if finished:
            self.watch.new_stage()
        npos = (pos[0] + 1, 0) if finished else pos
        ended = "divergence" if stop == "divergence" else \
            "early_stopping" if stop == "patience" and last_stage else None
        self.save(step, npos, best=res["best"], stopped=ended)
        fault_point(f"train:eval:{step}")
        return {**res, "stop": stop}

    # ------------------------------------------------------------ the end
    def params(self) -> dict:
        """The settings logged to Comet."""
        return {"lang": self.cfg.lang, "direction": f"{self.data.src}-{self.data.tgt}",
                "model": self.model_spec, "train": self.t.model_dump(mode="json"),
                "seed": self.seed}


def train_model(run_dir: Path, model: str, out: Path, sets=(), resume: bool = False,
                stop_on_divergence: bool = False, track: str | None = None,
                scratch_vocab: Path | None = None) -> dict:
    """Train on ``run_dir``'s curriculum into ``out``; return the ``train.json`` summary.

    ``model`` is a hub id, a local model directory or ``scratch``; ``sets`` are ``train.*``
    overrides (``key=value``, or ``(key=value, flag)`` for a flag that made one)."""
    if not model or not str(model).strip():
        raise UserError("--model: give a hub id, a local model directory or `scratch`")
    data = load_run(Path(run_dir), sets)
    out = Path(out)
    if out.resolve() == data.run_dir.resolve() or data.run_dir.resolve() in out.resolve().parents:
        raise UserError(f"--out {out} is inside the run directory {data.run_dir}: the run owns "
                        "that directory; write the model elsewhere")
    return Trainer(data, model, out, resume, stop_on_divergence, track,
                   scratch_vocab).run()

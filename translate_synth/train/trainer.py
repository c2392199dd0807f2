"""``translate-synth train``: fine-tune a pretrained seq2seq model, or train the from-scratch
baseline, on a run's curriculum, watching real and synthetic valid sets.

A plain PyTorch loop over a transformers model, not ``Seq2SeqTrainer``: the batch of every step
is a pure function of (seed, data, step) (``data.py``), the learning rate a pure function of the
step, and a checkpoint holds the weights, the AdamW state, the RNG states and the log, so a
resumed run repeats exactly the steps, batches, dropout masks and log lines of an uninterrupted
one. Token-budget batches and stages fed strictly in order are a few lines here; with the
Trainer they would be a custom sampler, a custom collator and a callback that switches datasets,
and its resume replays the data loader rather than the schedule.

Model and languages: the model is loaded, its family detected and its language codes set by the
transformers backend (``backends/hf.py``: ``TransformersTranslator``), which also decodes the
valid sets, so training, evaluation and ``translate-synth run --model MODEL_DIR`` use one code
path. Targets are tokenised as the backend scores them (``text_target`` with ``tgt_lang`` set).

MODEL_DIR: the best checkpoint by real valid ``train.select`` (model + tokenizer, a normal
``save_pretrained`` directory), ``train_log.jsonl`` (a ``train`` line every ``log_every``
steps, an ``eval`` line at every evaluation), ``train.json`` (summary, written last) and
``curves.png``; ``checkpoints/`` while training (removed at the end unless
``train.keep_checkpoints``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np

from translate_synth import progress
from translate_synth.emit import AtomicJsonl, write_bytes, write_json
from translate_synth.errors import Interrupted, UserError
from translate_synth.faults import checkpoint as fault_point
from translate_synth.metrics import corpus_metric_args, corpus_scores
from translate_synth.rundir import derived_model
from translate_synth.train.data import RunData, StageStream, allocate_steps, load_run
from translate_synth.train.trend import sentence_chrf
from translate_synth.train.watch import Watch, alarm_text, plot_curves

STATE_VERSION = 2  # 2: resolved device and precision in the identity; trainer.pt loads
                   # with weights_only=True
SCRATCH_LR, FINETUNE_LR = 5e-4, 5e-5
BETAS, EPS = (0.9, 0.98), 1e-8
CKPT_ONLY = ("optimizer.pt", "trainer.pt", "state.json", "train_log.jsonl")
# what train takes from the run's config whatever the model (train.json model.settings)
FROM_RUN = ("lang", "source_lang", "codes", "source_codes", "model.target_token", "curriculum",
            "scoring.bleu_tokenize", "scoring.lowercase", "collapse.rare_k", "train")


class TrainInterrupted(Interrupted):
    """Ctrl-C during training: stopped after a step, with a checkpoint of that step."""

    def __init__(self, step: int):
        self.where = f"step {step}"
        Exception.__init__(self, f"training stopped after step {step}; a checkpoint of that step "
                           "is saved: run the same command with --resume to continue")


# ---------------------------------------------------------------- small pieces

def lr_at(step: int, base: float, warmup: int) -> float:
    """Linear warm-up to ``base`` over ``warmup`` steps, then inverse square root decay
    (``base`` at the end of warm-up); constant without warm-up. ``step`` counts from 1."""
    if warmup <= 0:
        return base
    return base * min(step / warmup, math.sqrt(warmup / max(step, 1)))


def restore_rng(torch, rng: dict, log) -> None:
    """The RNG states of a checkpoint: the CPU one, and the CUDA one of each GPU that is both
    saved and visible now (``set_rng_state_all`` fails when fewer GPUs are visible than were
    saved); a mismatch is said, not fatal."""
    torch.set_rng_state(rng["cpu"])
    saved = list(rng.get("cuda") or [])
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    for i in range(min(len(saved), visible)):
        torch.cuda.set_rng_state(saved[i], i)
    if saved and len(saved) != visible:
        log(f"train: the checkpoint has the CUDA RNG state of {len(saved)} GPU(s), "
            f"{visible} visible now: restored {min(len(saved), visible)} (dropout masks on the "
            "others differ from an uninterrupted run)")


class _Ckpts:
    """``MODEL_DIR/checkpoints``: ``step-NNNNNNNN/`` directories, ``LATEST`` and ``BEST``
    naming two of them (each written atomically: a directory is complete before a pointer names
    it); older ones are removed, and the optimizer state of a best that is not the latest."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _read(self, name: str) -> Path | None:
        p = self.root / name
        if not p.is_file():
            return None
        d = self.root / p.read_text(encoding="utf-8").strip()
        return d if (d / "state.json").is_file() else None

    @property
    def latest(self) -> Path | None:
        return self._read("LATEST")

    @property
    def best(self) -> Path | None:
        return self._read("BEST")

    def save(self, step: int, write, best: bool) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"step-{step:08d}"
        final = self.root / name
        tmp = self.root / f".tmp-{name}"
        for d in (tmp, final):
            if d.exists():
                shutil.rmtree(d)
        tmp.mkdir()
        write(tmp)
        os.replace(tmp, final)
        if best:
            write_bytes(self.root / "BEST", name.encode())
        write_bytes(self.root / "LATEST", name.encode())
        keep = {p.name for p in (self.latest, self.best) if p is not None}
        for d in self.root.iterdir():
            if d.is_dir() and d.name.startswith(("step-", ".tmp-")) and d.name not in keep:
                shutil.rmtree(d, ignore_errors=True)
        b = self.best
        if b is not None and b.name != name:
            for f in ("optimizer.pt", "trainer.pt"):
                (b / f).unlink(missing_ok=True)
        return final


class _Comet:
    """Metrics of every evaluation to Comet ML (``tracking.py``'s pattern: online with
    COMET_API_KEY, else an offline archive in MODEL_DIR/comet/)."""

    def __init__(self, out: Path, params: dict, name: str):
        from translate_synth.tracking import OFF, QUIET, _flatten

        for k, v in QUIET.items():
            os.environ.setdefault(k, v)
        os.environ.pop("COMET_AUTO_LOG_DISABLE", None)
        import comet_ml

        project = f"translate-synth-train-{params.get('lang')}"
        if os.environ.get("COMET_API_KEY"):
            self.exp, self.mode, self.where = comet_ml.Experiment(project_name=project, **OFF), \
                "online", None
        else:
            d = Path(out) / "comet"
            d.mkdir(parents=True, exist_ok=True)
            self.exp = comet_ml.OfflineExperiment(project_name=project,
                                                  offline_directory=str(d), **OFF)
            self.mode, self.where = "offline", str(d)
        self.exp.set_name(name)
        self.exp.log_parameters(_flatten(params))

    def log(self, entry: dict) -> None:
        m = {"train_loss": entry.get("train_loss"), "lr": entry.get("lr")}
        for part in ("real", "synthetic"):
            for k in ("loss", "bleu", "chrf"):
                m[f"{part}.{k}"] = entry[part].get(k)
        for cls, v in (entry["real"].get("rare_words") or {}).items():
            m[f"real.recall.{cls}"] = v.get("recall")
        self.exp.log_metrics({k: v for k, v in m.items() if v is not None}, step=entry["step"])

    def end(self, assets: list[Path]) -> None:
        for p in assets:
            if Path(p).exists():
                self.exp.log_asset(str(p))
        self.exp.end()


# ---------------------------------------------------------------- the trainer

class Trainer:
    def __init__(self, data: RunData, model_spec: str, out: Path, resume: bool,
                 stop_on_divergence: bool, track: str | None, log,
                 scratch_vocab: Path | None = None):
        import torch

        self.torch = torch
        self.data, self.cfg, self.t = data, data.cfg, data.cfg.train
        self.model_spec, self.out, self.log = model_spec, Path(out), log
        self.stop_on_divergence = stop_on_divergence
        self.scratch = model_spec == "scratch"
        # a sentencepiece model given (ablate: one vocabulary for every condition) or None
        self.scratch_vocab = Path(scratch_vocab) if scratch_vocab and self.scratch else None
        self.seed = self.t.seed if self.t.seed is not None else self.cfg.seed
        self.ckpts = _Ckpts(self.out / "checkpoints")
        self.track = track if track is not None else self.cfg.tracking
        from translate_synth.backends.hf import pick_device

        # the device resolved (never `auto`): a checkpoint resumes only on the same kind of
        # device; the resolved precision joins the identity once the model is loaded (_load)
        self.device_resolved = pick_device(self.t.device)
        self.identity = {"version": STATE_VERSION, "run": str(data.run_dir.resolve()),
                         "data": data.shas, "model": model_spec,
                         "direction": f"{data.src}-{data.tgt}",
                         # device and precision as resolved (below), not as asked: `auto` on
                         # a GPU and `cuda` there are the same training
                         "train": self.t.model_dump(mode="json", exclude={
                             "keep_checkpoints", "device", "precision"}),
                         "device": _device_kind(self.device_resolved)}
        if self.scratch_vocab is not None:
            from translate_synth.emit import file_sha256

            self.identity["scratch_vocab"] = file_sha256(self.scratch_vocab)
        self._check_out(resume)

    # ------------------------------------------------------------ output dir
    def _check_out(self, resume: bool) -> None:
        out = self.out
        if (out / "train.json").is_file():
            raise UserError(f"{out} holds a finished training (train.json): choose another --out "
                            "or remove it")
        latest = self.ckpts.latest
        if latest is not None and not resume:
            step = json.loads((latest / "state.json").read_text())["step"]
            raise UserError(f"{out} holds an unfinished training (checkpoint at step {step}): "
                            "add --resume to continue it, or choose another --out")
        if latest is None and out.exists() and not out.is_dir():
            raise UserError(f"--out {out} is a file: give a directory")
        if latest is None and out.is_dir() and any(p.name != "checkpoints" for p in out.iterdir()):
            raise UserError(f"--out {out} is not empty: give a new or empty directory")
        self.resume_from = latest if resume else None
        if resume and latest is None:
            self.log(f"train: nothing to resume in {out}: starting from step 0")
        if self.resume_from is not None:
            state = json.loads((latest / "state.json").read_text(encoding="utf-8"))
            old = state.get("identity", {})
            from translate_synth.tracking import _flatten

            self.resume_identity = old
            if old.get("version") == STATE_VERSION and old.get("device") and \
                    old["device"] != self.identity["device"]:
                raise UserError(
                    f"--resume: the checkpoint at step {state['step']} trained on "
                    f"{old['device']} ({old.get('precision')}) and this one would train on "
                    f"{self.device_resolved}: a resumed training repeats the same one; resume it "
                    f"where {old['device']} is (--set train.device={old['device']}), or start "
                    "afresh in another --out")
            changed = [k for k in self.identity if old.get(k) != self.identity[k]]
            if "train" in changed:
                was, now = _flatten(old.get("train", {})), _flatten(self.identity["train"])
                keys = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
                changed = [f"train.{k}" for k in keys] + [c for c in changed if c != "train"]
            if changed:
                raise UserError(f"--resume: {', '.join(changed)} changed since the checkpoint at "
                                f"step {state['step']} (a resumed training must repeat the same "
                                "one): give the same run, --model and settings, or another --out")

    # ------------------------------------------------------------ model and data
    def _translator(self, model_dir: str, same_model: bool = False):
        """The transformers backend for ``model_dir``: languages and codes from the run; model
        settings (revision, trust_remote_code) from the run only when the model trained is
        the run's own synthesis model, else the defaults (never another model's)."""
        from translate_synth.backends.hf import TransformersTranslator
        from translate_synth.config import build_config

        raw = self.cfg.model_dump(mode="json")
        raw.pop("output", None)
        run_model = raw["model"]
        raw["model"] = derived_model(run_model, same_model, backend="transformers",
                                     id=str(model_dir), ids={}, family=self.t.family,
                                     device=self.device_resolved, dtype="float32")
        raw["cache"] = {"enabled": False}
        return TransformersTranslator(build_config(raw, "<train>"))

    def _load(self) -> None:
        torch = self.torch
        d = self.data
        self.model_info: dict = {"init": self.model_spec}
        if self.resume_from is not None:
            src_dir = self.resume_from
        elif self.scratch:
            from translate_synth.train.scratch import build_scratch

            src_dir = self.out / "checkpoints" / "init"
            if src_dir.exists():
                shutil.rmtree(src_dir)
            given = self.scratch_vocab
            self.log("train: " + (f"sentencepiece model {given}" if given else
                                  f"sentencepiece ({self.t.scratch.vocab_size:,} pieces asked) "
                                  f"on {len(d.train_texts):,} sentences") +
                     f", Marian {self.t.scratch.layers}+{self.t.scratch.layers} layers, "
                     f"d_model {self.t.scratch.d_model}")
            info = build_scratch(src_dir, d.train_texts, self.t.scratch, self.seed,
                                 tag_bt=self.cfg.curriculum.tag_bt and not self.t.reverse,
                                 spm_model=given.read_bytes() if given else None)
            if given:
                info["vocabulary"] = str(given)
            self.model_info.update(info)
        else:
            src_dir = self.model_spec
        if self.resume_from is not None:
            state = json.loads((src_dir / "state.json").read_text(encoding="utf-8"))
            self.model_info = state["model_info"]
        same = self.model_spec in ({self.cfg.model.id, *self.cfg.model.ids.values()} - {None})
        self.tr = self._translator(str(src_dir), same_model=same)
        m = self.tr.mcfg
        if self.resume_from is None:
            self.model_info["settings"] = {
                "from_run": list(FROM_RUN), "revision": m.revision,
                "trust_remote_code": m.trust_remote_code,
                "model_settings_from": "the run (the run's own model)" if same else
                "defaults (not the run's synthesis model's)"}
            self.log(f"train: from the run: languages {d.src}->{d.tgt}, language codes, "
                     f"curriculum, valid sets, BLEU tokenisation; from the model: revision "
                     f"{m.revision or 'default'}, remote code "
                     f"{'trusted' if m.trust_remote_code else 'not trusted'}")
        with progress.step(f"train: loading {src_dir}", log_fn=self.log):
            self.tok, self.model, self.prefix, _ = self.tr.setup(d.src, d.tgt)
        mid = self.tr.model_id(d.src, d.tgt)
        self.family = self.tr.family(mid)
        if self.family in ("nllb", "m2m100", "mbart50"):
            self.tok.tgt_lang = self.tr.lang_code(d.tgt, self.family)
        self.device = self.tr.device
        self.model.train()
        # Marian: CTranslate2 starts decoding from a zero vector where transformers looks up
        # the <pad> row (the decoder start), so that row must stay zero; padding_idx keeps its
        # gradient from the lookup at zero, but the tied output layer would still train it
        self.frozen_rows = []
        if self.family == "marian":
            pad = self.tok.pad_token_id
            embs = {id(m.weight): m.weight for m in (
                self.model.get_input_embeddings(), self.model.get_decoder().embed_tokens,
                self.model.get_output_embeddings()) if m is not None}
            self.frozen_rows = [(w, pad) for w in embs.values()]
        self.model_info.update({"family": self.family, "model_type": self.model.config.model_type,
                                "parameters": sum(p.numel() for p in self.model.parameters())})
        if self.scratch:
            s = self.t.scratch
            self.model_info["shape"] = {"d_model": s.d_model, "encoder_layers": s.layers,
                                        "decoder_layers": s.layers, "heads": s.heads,
                                        "ffn_dim": s.ffn_dim, "dropout": s.dropout,
                                        "max_positions": s.max_positions}
        max_pos = getattr(self.model.config, "max_position_embeddings", None) or 1024
        if self.family == "madlad":  # relative positions: no table to overrun
            max_pos = 10 ** 6
        self.max_len = min(self.t.max_len, max_pos)
        from translate_synth.precision import train_precision

        cuda = self.device.startswith("cuda")
        prec = train_precision(self.t.precision, self.device, self.model.config.model_type,
                               cuda and torch.cuda.is_bf16_supported(), self.family)
        old = getattr(self, "resume_identity", None) or {}
        if self.resume_from is not None and old.get("precision") not in (None, prec):
            raise UserError(f"--resume: the checkpoint trained in {old['precision']} and this "
                            f"{self.device} would train in {prec}: resume it where "
                            f"{old['precision']} is available (train.precision), or start "
                            "afresh in another --out")
        self.identity["precision"] = prec
        self.precision = prec
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(prec)
        self.scaler = torch.amp.GradScaler("cuda") if prec == "fp16" else None

    def _encode(self, pairs: list[tuple[str, str]]):
        """Token ids of each source (with the family's prefix) and target, cut at max_len;
        each distinct text encoded once."""
        src_ids: dict[str, list[int]] = {}
        tgt_ids: dict[str, list[int]] = {}
        for cache, texts, kw in ((src_ids, sorted({s for s, _ in pairs}), "text"),
                                 (tgt_ids, sorted({g for _, g in pairs}), "text_target")):
            for i in range(0, len(texts), 2000):
                chunk = texts[i:i + 2000]
                arg = [self.prefix + x for x in chunk] if kw == "text" else chunk
                enc = self.tok(**{kw: arg}, truncation=True, max_length=self.max_len)
                for x, ids in zip(chunk, enc["input_ids"]):
                    cache[x] = list(ids)
        return [src_ids[s] for s, _ in pairs], [tgt_ids[g] for _, g in pairs]

    def _prepare(self) -> None:
        d, t = self.data, self.t
        self.enc = []
        sizes, epb = [], []
        self.streams = []
        for st in d.stages:
            s_ids, t_ids = self._encode(st.pairs)
            self.enc.append((s_ids, t_ids))
            lengths = np.array([max(len(a), len(b)) for a, b in zip(s_ids, t_ids)] or [0],
                               dtype=np.int64)[:len(s_ids)]
            stream = StageStream(lengths, t.max_tokens, self.seed, st.name)
            self.streams.append(stream)
            sizes.append(len(st.pairs))
            epb.append(stream.batches_per_epoch() if st.pairs else 0)
        self.alloc = allocate_steps(sizes, [s.name for s in d.stages], t.max_steps,
                                    t.stage_steps, epb, t.epochs)
        self.total = sum(self.alloc)
        if self.total == 0:
            raise UserError("train: 0 steps to take (train.stage_steps sets every stage to 0)")
        self.epoch_batches = epb
        self.warmup = min(t.warmup_steps, self.total // 10)
        self.lr = t.lr or (SCRATCH_LR if self.scratch else FINETUNE_LR)
        n = t.eval_max_rows
        self.evalsets = {}
        for name, pairs in (("real", d.valid[:n]), ("synthetic", d.valid_synthetic[:n])):
            s_ids, t_ids = self._encode(pairs)
            self.evalsets[name] = (pairs, s_ids, t_ids)
        from translate_synth.rarewords import train_counts

        self.counts = train_counts(d.real_target_texts)
        self.rare_k = t.rare_k or self.cfg.collapse.rare_k

    # ------------------------------------------------------------ steps
    def _batch(self, s_ids, t_ids, idx):
        torch = self.torch
        pad = self.tok.pad_token_id
        S = max(len(s_ids[i]) for i in idx)
        T = max(len(t_ids[i]) for i in idx)
        inp = torch.full((len(idx), S), pad, dtype=torch.long)
        att = torch.zeros((len(idx), S), dtype=torch.long)
        lab = torch.full((len(idx), T), -100, dtype=torch.long)
        for r, i in enumerate(idx):
            a, b = s_ids[i], t_ids[i]
            inp[r, :len(a)] = torch.tensor(a)
            att[r, :len(a)] = 1
            lab[r, :len(b)] = torch.tensor(b)
        return inp.to(self.device), att.to(self.device), lab.to(self.device)

    def _forward(self, inp, att, lab, smoothing: float):
        """(summed loss, target tokens)."""
        torch = self.torch
        F = torch.nn.functional
        ctx = torch.autocast("cuda", dtype=self.amp_dtype) if self.amp_dtype is not None \
            else _nullcontext()
        with ctx:
            logits = self.model(input_ids=inp, attention_mask=att, labels=lab).logits
        logits = logits.float()
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), lab.reshape(-1),
                               ignore_index=-100, label_smoothing=smoothing, reduction="sum")
        return loss, int((lab != -100).sum())

    def _step(self, step: int, idx: list[int], si: int) -> tuple[float, int]:
        torch = self.torch
        s_ids, t_ids = self.enc[si]
        inp, att, lab = self._batch(s_ids, t_ids, idx)
        for g in self.opt.param_groups:
            g["lr"] = lr_at(step, self.lr, self.warmup)
        loss_sum, n_tok = self._forward(inp, att, lab, self.t.label_smoothing)
        loss = loss_sum / max(n_tok, 1)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.opt)
        else:
            loss.backward()
        for w, row in self.frozen_rows:
            if w.grad is not None:
                w.grad[row].zero_()
        if self.t.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.t.clip_norm)
        if self.scaler is not None:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return float(loss.detach()), n_tok

    def _evaluate(self) -> dict:
        """Valid loss, BLEU, chrF on both sets; rare-word recall on the real one."""
        torch = self.torch
        from translate_synth.config import Decoding
        from translate_synth.rarewords import rare_word_recall

        t = self.t
        self.model.eval()
        out, sigs, rows = {}, {}, {}
        for name, (pairs, s_ids, t_ids) in self.evalsets.items():
            if not pairs:  # an empty valid_synthetic.jsonl: nothing to score
                out[name], rows[name] = {"rows": 0, "loss": None, "bleu": None, "chrf": None,
                                         "sentence_chrf": None}, []
                continue
            # an untrained model decodes to the length limit: bound it by the set's longest
            # source (2x + 16 tokens, as fairseq's max_len_a/b do) so early evaluations are cheap
            cap = 2 * max(len(x) for x in s_ids) + 16
            dec = Decoding(beam_size=t.eval_beam, max_new_tokens=min(t.eval_max_new_tokens, cap),
                           batch_size=64, max_tokens=max(t.max_tokens, 16))
            tot, ntok = 0.0, 0
            lengths = np.array([max(len(a), len(b)) for a, b in zip(s_ids, t_ids)])
            from translate_synth.backends.batching import token_batches

            with torch.inference_mode():
                for idx in token_batches(lengths.tolist(), t.max_tokens, t.max_tokens):
                    inp, att, lab = self._batch(s_ids, t_ids, idx)
                    ls, n = self._forward(inp, att, lab, 0.0)
                    tot += float(ls)
                    ntok += n
            ctx = torch.autocast("cuda", dtype=self.amp_dtype) if self.amp_dtype is not None \
                else _nullcontext()
            with ctx:
                got = self.tr.translate([s for s, _ in pairs], self.data.src, self.data.tgt, dec)
            hyps = [h[0] if h else "" for h in got]
            refs = [g for _, g in pairs]
            scores, sigs = corpus_scores(hyps, refs, corpus_metric_args(
                self.cfg.scoring, ("bleu", "chrf")), digits=4)
            rows[name] = sentence_chrf(hyps, refs, self.cfg.scoring.lowercase)
            res = {"rows": len(pairs), "loss": round(tot / max(ntok, 1), 5), **scores,
                   "sentence_chrf": round(float(np.mean(rows[name])), 4) if rows[name] else None}
            if name == "real":
                res["rare_words"] = rare_word_recall(hyps, refs, self.counts, self.rare_k)
            out[name] = res
        self.signatures = sigs
        self.model.train()
        return {**out, "rows": rows}

    # ------------------------------------------------------------ checkpoints
    def _state(self, step: int, pos: tuple[int, int], stopped: str | None) -> dict:
        return {"identity": self.identity, "step": step, "stage_index": pos[0],
                "step_in_stage": pos[1], "stopped": stopped, "watch": self.watch.state(),
                "window": self.window, "since_eval": self.since_eval,
                "stage_log": self.stage_log,
                "model_info": self.model_info, "resumed_at": self.resumed_at,
                "elapsed_s": self.elapsed()}

    def _save(self, step: int, pos, best: bool, stopped: str | None = None) -> None:
        torch = self.torch

        def write(d: Path):
            self.model.save_pretrained(d)
            self.tok.save_pretrained(d)
            torch.save(self.opt.state_dict(), d / "optimizer.pt")
            rng = {"cpu": torch.get_rng_state(),
                   "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                   "scaler": self.scaler.state_dict() if self.scaler is not None else None}
            torch.save(rng, d / "trainer.pt")
            with AtomicJsonl(d / "train_log.jsonl") as w:
                for e in self.entries:
                    w.write(e)
            write_json(d / "state.json", self._state(step, pos, stopped))

        self.ckpts.save(step, write, best)
        with AtomicJsonl(self.out / "train_log.jsonl") as w:
            for e in self.entries:
                w.write(e)

    def _restore(self) -> dict:
        torch = self.torch
        d = self.resume_from
        state = json.loads((d / "state.json").read_text(encoding="utf-8"))
        # tensors onto this device (a checkpoint saved on cuda:1 loads on cuda:0); nothing
        # but tensors and plain containers is unpickled (weights_only)
        self.opt.load_state_dict(torch.load(d / "optimizer.pt", map_location=self.device,
                                            weights_only=True))
        rng = torch.load(d / "trainer.pt", map_location="cpu", weights_only=True)
        restore_rng(torch, rng, self.log)
        if self.scaler is not None and rng.get("scaler"):
            self.scaler.load_state_dict(rng["scaler"])
        with open(d / "train_log.jsonl", encoding="utf-8") as fh:
            self.entries = [json.loads(x) for x in fh if x.strip()]
        return state

    # ------------------------------------------------------------ the loop
    def run(self) -> dict:
        torch = self.torch
        t, d = self.t, self.data
        if self.resume_from is None:
            torch.manual_seed(self.seed)
        self._load()
        self._prepare()
        decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim < 2]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": t.weight_decay},
                                      {"params": no_decay, "weight_decay": 0.0}],
                                     lr=self.lr, betas=BETAS, eps=EPS)
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
            state = self._restore()
            self.watch = Watch.from_state(state["watch"], **wkw)
            self.window, self.stage_log = state["window"], state["stage_log"]
            self.since_eval = state["since_eval"]
            self.resumed_at = state["resumed_at"] + [state["step"]]
            step, si0, done0 = state["step"], state["stage_index"], state["step_in_stage"]
            elapsed0 = state["elapsed_s"]
            stopped = state.get("stopped")
            self.log(f"train: resuming at step {step} of {self.total:,} "
                     f"({self.resume_from.name})")
        else:
            self.watch = Watch(**wkw)
            step, si0, done0, stopped = 0, 0, 0, None
        why = self.watch.cannot_judge(*(len(self.evalsets[k][0]) for k in ("real", "synthetic")))
        if why:
            self.log(f"train: divergence alarm: {why}; every evaluation will say so")
        t0 = time.perf_counter()
        self.elapsed = lambda: round(elapsed0 + time.perf_counter() - t0, 2)
        self.comet = None
        if self.track == "comet":
            self.comet = _Comet(self.out, self._params(), f"{d.src}-{d.tgt}-{self.model_spec}")
            for e in self.entries:
                if e["kind"] == "eval":
                    self.comet.log(e)
        self.log(f"train: {d.src}->{d.tgt}, {self.family} ({self.model_info['parameters']:,} "
                 f"parameters) on {self.device} ({self.precision}); {self.total:,} steps: " +
                 ", ".join(f"{s.name} {n:,}" for s, n in zip(d.stages, self.alloc)))
        start_eval = t.eval_at_start if t.eval_at_start is not None else not self.scratch
        if self.resume_from is None and start_eval:
            self._eval_and_checkpoint(0, d.stages[0].name, (0, 0), stage_done=False)
        bar = progress.bar("train", total=self.total, unit="steps", initial=step,
                           log_fn=self.log)
        interrupted = [False]
        old_handler = None

        def on_sigint(signum, frame):
            if interrupted[0]:
                raise KeyboardInterrupt
            interrupted[0] = True

        try:
            old_handler = signal.signal(signal.SIGINT, on_sigint)
        except ValueError:  # not the main thread: Ctrl-C is the caller's business
            old_handler = None
        last_eval_t = time.perf_counter()
        last_eval_step = step
        try:
            for si in range(si0, len(d.stages)):
                if stopped:
                    break
                stage = d.stages[si]
                steps_i = self.alloc[si]
                done = done0 if si == si0 else 0
                stream = self.streams[si]
                stream.epoch, stream._batches, stream._i = -1, [], 0
                stream.skip(done)
                sl = self.stage_log.setdefault(stage.name, {
                    "rows": len(stage.pairs), "steps_planned": steps_i, "steps": 0,
                    "first_step": None, "last_step": None, "epochs": 0.0,
                    "stopped_early": False})
                while done < steps_i:
                    epoch, idx = next(stream)
                    step += 1
                    done += 1
                    loss, ntok = self._step(step, idx, si)
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
                    if step % t.log_every == 0 or done == steps_i:
                        self.entries.append({
                            "kind": "train", "step": step, "stage": stage.name, "epoch": epoch,
                            "loss": round(w["loss"] / w["steps"], 5),
                            "lr": lr_at(step, self.lr, self.warmup), "steps": w["steps"],
                            "rows": w["rows"], "tokens": w["tokens"]})
                        bar.set_postfix(stage=stage.name, loss=f"{w['loss'] / w['steps']:.3f}")
                        self.window = {"loss": 0.0, "steps": 0, "tokens": 0, "rows": 0}
                    stage_end = done == steps_i
                    evaluated = False
                    if step % t.eval_every == 0 or stage_end:
                        now = time.perf_counter()
                        rate = (step - last_eval_step) / max(now - last_eval_t, 1e-9)
                        last = si == len(d.stages) - 1
                        res = self._eval_and_checkpoint(step, stage.name, (si, done), stage_end,
                                                        rate=rate, last_stage=last)
                        last_eval_t, last_eval_step = time.perf_counter(), step
                        evaluated = True
                        if res["stop"] == "divergence":
                            stopped = "divergence"
                            break
                        if res["stop"] == "patience":
                            sl["stopped_early"] = True
                            if last:
                                stopped = "early_stopping"
                            break
                    if interrupted[0]:
                        if not evaluated:
                            self._save(step, (si, done), best=False)
                        raise TrainInterrupted(step)
        finally:
            bar.close()
            if old_handler is not None:
                signal.signal(signal.SIGINT, old_handler)
        return self._finish(step, stopped or "max_steps")

    def _eval_and_checkpoint(self, step: int, stage: str, pos, stage_done: bool,
                             rate: float | None = None, last_stage: bool = False) -> dict:
        te = time.perf_counter()
        ev = self._evaluate()
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
        r, s = ev["real"], ev["synthetic"]
        rec = {k: (v or {}).get("recall") for k, v in r["rare_words"].items()}
        syn_chrf = "-" if s["chrf"] is None else f"{s['chrf']:.1f}"
        recall = " / ".join(f"{k} {'-' if rec.get(k) is None else f'{rec[k]:.2f}'}"
                            for k in ("rare", "unseen", "frequent"))
        self.log(f"train: step {step:,} ({stage}): real chrF {r['chrf']:.1f} BLEU {r['bleu']:.1f} "
                 f"loss {r['loss']:.3f}{' (best)' if res['best'] else ''}; synthetic chrF "
                 f"{syn_chrf}; word recall {recall}"
                 + (f"; DIVERGENCE: {alarm_text(res['alarm'])}" if res["alarm"] else
                    f"; divergence: {res['divergence']}" if res["divergence"] and
                    res["divergence"].startswith("cannot") else ""))
        finished = stage_done or stop is not None
        if stop == "patience":  # in the checkpoint below, so a resume from it knows
            self.stage_log.setdefault(stage, {})["stopped_early"] = True
        if finished:
            self.watch.new_stage()
        npos = (pos[0] + 1, 0) if finished else pos
        ended = "divergence" if stop == "divergence" else \
            "early_stopping" if stop == "patience" and last_stage else None
        self._save(step, npos, best=res["best"], stopped=ended)
        fault_point(f"train:eval:{step}")
        return {**res, "stop": stop}

    # ------------------------------------------------------------ the end
    def _params(self) -> dict:
        return {"lang": self.cfg.lang, "direction": f"{self.data.src}-{self.data.tgt}",
                "model": self.model_spec, "train": self.t.model_dump(mode="json"),
                "seed": self.seed}

    def _finish(self, step: int, stopped: str) -> dict:
        d, t = self.data, self.t
        best_dir = self.ckpts.best
        if best_dir is None:
            raise UserError("train: no evaluation was made, so there is no best checkpoint")
        stage_dir = self.out / ".final"
        if stage_dir.exists():
            shutil.rmtree(stage_dir)
        shutil.copytree(best_dir, stage_dir, ignore=shutil.ignore_patterns(*CKPT_ONLY))
        model_files = sorted(p.name for p in stage_dir.iterdir() if p.is_file())
        for name in model_files:
            os.replace(stage_dir / name, self.out / name)
        shutil.rmtree(stage_dir, ignore_errors=True)
        evals = [e for e in self.entries if e["kind"] == "eval"]
        best = self.watch.best
        with AtomicJsonl(self.out / "train_log.jsonl") as w:
            for e in self.entries:
                w.write(e)
        write_bytes(self.out / "curves.png", plot_curves(
            evals, self.watch.alarms, best["step"] if best else None,
            f"{d.run_dir.name}: {d.src}->{d.tgt}, {self.model_spec}"))
        secs = self.elapsed()
        train_lines = [e for e in self.entries if e["kind"] == "train"]
        tokens = sum(e["tokens"] for e in train_lines)
        from translate_synth import __version__

        summary = {
            "version": __version__, "run_dir": str(d.run_dir), "lang": self.cfg.lang,
            "source_lang": self.cfg.source_lang, "direction": f"{d.src}-{d.tgt}",
            "model": self.model_info, "device": self.device, "precision": self.precision,
            "seed": self.seed, "steps": step, "steps_planned": self.total, "stopped": stopped,
            "stages": [{"name": s.name, "file": s.file, **self.stage_log.get(s.name, {
                "rows": len(s.pairs), "steps_planned": n, "steps": 0})}
                for s, n in zip(d.stages, self.alloc)],
            "lr": {"peak": self.lr, "warmup_steps": self.warmup,
                   "schedule": "linear warm-up, then inverse square root"},
            "best": {"step": best["step"], "stage": best["stage"], "select": best["select"],
                     "real": best["real"], "synthetic": best["synthetic"]} if best else None,
            "final": evals[-1] if evals else None, "alarms": self.watch.alarms,
            "divergence": self.watch.summary(),
            "evaluations": len(evals), "signatures": self.signatures,
            "valid_rows": {k: len(v[0]) for k, v in self.evalsets.items()},
            "rare_k": self.rare_k, "resumed_at": self.resumed_at,
            "timings": {"seconds": secs, "train_target_tokens": tokens,
                        "steps_per_s": round(step / secs, 4) if secs else None},
            "data": d.shas, "config": t.model_dump(mode="json"),
            "outputs": model_files + ["train_log.jsonl", "curves.png", "train.json"]}
        if self.comet:
            self.comet.end([self.out / "curves.png"])
            summary["comet"] = {"mode": self.comet.mode, "where": self.comet.where}
            if self.comet.where:
                summary["outputs"].append("comet/")
        if not t.keep_checkpoints:
            shutil.rmtree(self.out / "checkpoints", ignore_errors=True)
        write_json(self.out / "train.json", summary)
        return summary


def _device_kind(device: str) -> str:
    """cpu or cuda (a checkpoint moves between GPUs freely, not between kinds)."""
    return "cuda" if str(device).startswith("cuda") else str(device)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def train_model(run_dir: Path, model: str, out: Path, sets=(), resume: bool = False,
                stop_on_divergence: bool = False, track: str | None = None,
                log=progress.log, scratch_vocab: Path | None = None) -> dict:
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
    return Trainer(data, model, out, resume, stop_on_divergence, track, log,
                   scratch_vocab).run()

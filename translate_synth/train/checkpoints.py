"""A training's checkpoints (``MODEL_DIR/checkpoints``), and the output directory's check.

A checkpoint holds the weights and tokenizer (``save_pretrained``), the AdamW state
(``optimizer.pt``), the RNG states and the gradient scaler's numbers (``trainer.pt``), the log so
far (``train_log.jsonl``) and the loop's state (``state.json``: step, stage, the schedule, the
watch, the identity a resume must match). Every ``torch.save`` and ``torch.load`` of the package
is here; ``torch.load`` reads weights only (``weights_only=True``) onto the device given.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from translate_synth.emit import AtomicJsonl, write_bytes, write_json
from translate_synth.errors import UserError
from translate_synth.tracking import flatten

log = logging.getLogger(__name__)

STATE_VERSION = 2  # 2: resolved device and precision in the identity; trainer.pt loads
                   # with weights_only=True
CKPT_ONLY = ("optimizer.pt", "trainer.pt", "state.json", "train_log.jsonl")


class Checkpoints:
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
        """``write(directory)`` fills the checkpoint of ``step``; then the pointers move."""
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


def write_log(path: Path, entries: list[dict]) -> None:
    """``train_log.jsonl``: the log lines so far, written atomically."""
    with AtomicJsonl(path) as w:
        for e in entries:
            w.write(e)


def write_checkpoint(d: Path, model, tok, opt, scaler, entries: list[dict], state) -> None:
    """The files of one checkpoint directory ``d``; ``state()`` gives state.json's content."""
    import torch

    model.save_pretrained(d)
    tok.save_pretrained(d)
    torch.save(opt.state_dict(), d / "optimizer.pt")
    rng = {"cpu": torch.get_rng_state(),
           "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
           "scaler": scaler.state_dict() if scaler is not None else None}
    torch.save(rng, d / "trainer.pt")
    write_log(d / "train_log.jsonl", entries)
    write_json(d / "state.json", state())


def read_checkpoint(d: Path, opt, scaler, device: str) -> tuple[dict, list[dict]]:
    """Restore the optimizer, the RNG states and the scaler from checkpoint ``d``; return its
    state.json and its log lines."""
    import torch

    state = json.loads((d / "state.json").read_text(encoding="utf-8"))
    # tensors onto this device (a checkpoint saved on cuda:1 loads on cuda:0); nothing
    # but tensors and plain containers is unpickled (weights_only)
    opt.load_state_dict(torch.load(d / "optimizer.pt", map_location=device, weights_only=True))
    rng = torch.load(d / "trainer.pt", map_location="cpu", weights_only=True)
    restore_rng(torch, rng)
    if scaler is not None and rng.get("scaler"):
        scaler.load_state_dict(rng["scaler"])
    with open(d / "train_log.jsonl", encoding="utf-8") as fh:
        entries = [json.loads(x) for x in fh if x.strip()]
    return state, entries


def restore_rng(torch, rng: dict) -> None:
    """The RNG states of a checkpoint: the CPU one, and the CUDA one of each GPU that is both
    saved and visible now (``set_rng_state_all`` fails when fewer GPUs are visible than were
    saved); a mismatch is said, not fatal."""
    torch.set_rng_state(rng["cpu"])
    saved = list(rng.get("cuda") or [])
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    for i in range(min(len(saved), visible)):
        torch.cuda.set_rng_state(saved[i], i)
    if saved and len(saved) != visible:
        log.info(f"train: the checkpoint has the CUDA RNG state of {len(saved)} GPU(s), "
                 f"{visible} visible now: restored {min(len(saved), visible)} (dropout masks on "
                 "the others differ from an uninterrupted run)")


def device_kind(device: str) -> str:
    """cpu or cuda (a checkpoint moves between GPUs freely, not between kinds)."""
    return "cuda" if str(device).startswith("cuda") else str(device)


def check_out(out: Path, ckpts: Checkpoints, identity: dict, resume: bool,
              device: str) -> tuple[Path | None, dict]:
    """Refuse an ``--out`` that holds a finished training, an unfinished one without
    ``--resume``, a file or other files; with ``--resume``, one whose checkpoint was made with
    other settings (``identity``) or on another kind of device. Return (the checkpoint to resume
    from or None, its identity or {})."""
    if (out / "train.json").is_file():
        raise UserError(f"{out} holds a finished training (train.json): choose another --out "
                        "or remove it")
    latest = ckpts.latest
    if latest is not None and not resume:
        step = json.loads((latest / "state.json").read_text())["step"]
        raise UserError(f"{out} holds an unfinished training (checkpoint at step {step}): "
                        "add --resume to continue it, or choose another --out")
    if latest is None and out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file: give a directory")
    if latest is None and out.is_dir() and any(p.name != "checkpoints" for p in out.iterdir()):
        raise UserError(f"--out {out} is not empty: give a new or empty directory")
    if resume and latest is None:
        log.info(f"train: nothing to resume in {out}: starting from step 0")
    if not resume or latest is None:
        return None, {}
    state = json.loads((latest / "state.json").read_text(encoding="utf-8"))
    old = state.get("identity", {})
    if old.get("version") == STATE_VERSION and old.get("device") and \
            old["device"] != identity["device"]:
        raise UserError(
            f"--resume: the checkpoint at step {state['step']} trained on "
            f"{old['device']} ({old.get('precision')}) and this one would train on "
            f"{device}: a resumed training repeats the same one; resume it "
            f"where {old['device']} is (--set train.device={old['device']}), or start "
            "afresh in another --out")
    changed = [k for k in identity if old.get(k) != identity[k]]
    if "train" in changed:
        was, now = flatten(old.get("train", {})), flatten(identity["train"])
        keys = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
        changed = [f"train.{k}" for k in keys] + [c for c in changed if c != "train"]
    if changed:
        raise UserError(f"--resume: {', '.join(changed)} changed since the checkpoint at "
                        f"step {state['step']} (a resumed training must repeat the same "
                        "one): give the same run, --model and settings, or another --out")
    return latest, old

"""What ``train`` reads from a finished run, and the order it feeds it to the model.

A run directory (``OUT/<lang>``, see README "Output format") gives:

- the curriculum stages, ``train.<stage>.jsonl``, in the order of the run's
  ``curriculum.stages`` (``train.jsonl`` as one stage named ``train`` when the run has no
  curriculum);
- the real held-out ``valid.jsonl`` (early stopping and the best checkpoint are chosen on it
  alone) and the synthetic ``valid_synthetic.jsonl`` (watched, never chosen on);
- the real training text (``train.jsonl`` rows of origin ``real``), whose word counts define the
  rare and unseen words of rare-word recall, and all of ``train.jsonl`` for the from-scratch
  sentencepiece model.

Steps: ``train.max_steps`` (``--max-steps``) is shared by the stages as ``train.stage_budget``
says, after the stages named in ``train.stage_steps`` took their own: ``rows`` in proportion to
their rows (each stage gets about as many passes), ``equal`` in equal shares, ``stale`` each
stage until its real valid score stops improving, capped (``stale_cap``); without it each stage
gets ``train.epochs`` passes. Within a stage, each pass
is a seeded shuffle of the stage's rows, cut into length-bucketed batches of at most
``train.max_tokens`` padded tokens (rows x the longest side), in a seeded order; the batch of
any step is a pure function of the seed, the data and the step, so a resumed run replays
exactly the batches an uninterrupted one sees.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from translate_synth.backends.batching import token_batches
from translate_synth.config import build_config, parse_override
from translate_synth.emit import file_sha256
from translate_synth.errors import UserError
from translate_synth.rundir import read_manifest, read_pairs
from translate_synth.text import stable_int

BT_PREFIX = "<BT> "
BUCKET_ROWS = 5000  # rows sorted by length together before they are cut into batches


@dataclass
class Stage:
    name: str
    file: str
    pairs: list[tuple[str, str]]
    origins: list[str]


@dataclass
class RunData:
    run_dir: Path
    cfg: object  # Config, train section resolved
    src: str  # the language translated from
    tgt: str  # ... and into
    stages: list[Stage]
    valid: list[tuple[str, str]]
    valid_synthetic: list[tuple[str, str]]
    real_target_texts: list[str]  # real training text in the target language (rare words)
    train_texts: list[str]  # every training sentence, both sides (scratch sentencepiece)
    shas: dict = field(default_factory=dict)  # file -> sha256 of what was read


def train_overrides(sets) -> list:
    """``--set`` items (and ``(item, flag)`` pairs) for train: ``train.*`` only."""
    out = []
    for item in sets:
        text, origin = item if isinstance(item, tuple) else (item, f"--set {item}")
        path, _ = parse_override(text, origin)
        if path[0] != "train":
            hint = ("`translate-synth refilter RUN --set ...` re-decides the run's files"
                    if path[0] in ("curriculum", "filters", "collapse") else
                    "`translate-synth run` makes a run with it")
            raise UserError(f"{origin}: train takes train.* settings only; '{'.'.join(path)}' "
                            f"is a setting of the run ({hint})")
        out.append(item)
    return out


def no_synthetic_valid(run_dir: Path) -> str:
    """Why a run has no valid_synthetic.jsonl, and the change that gives it one: with no
    synthetic row kept a run writes none and holding some out changes nothing (the filters must
    keep rows first); else it was made with curriculum.valid_synthetic=0 (a count holds rows
    out: a fraction of few rows can round to none). An empty file trains (the alarm abstains)."""
    try:
        funnel = json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))["filters"]
        seen, kept = funnel[0]["seen"], funnel[-1]["kept"]
        worst = max(funnel, key=lambda f: f["removed"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        seen = kept = worst = None
    head = (f"{run_dir}: no valid_synthetic.jsonl; train watches the model on it (the "
            "divergence alarm)")
    if kept == 0 and not seen:
        return (f"{head}, but the run made no synthetic candidate: give it monolingual text "
                "(--target-mono, --source-mono) or real pairs to paraphrase, and rerun "
                "`translate-synth run`")
    if kept == 0:
        name, th = worst["name"], worst.get("thresholds") or {}
        key = next((k for k in ("min", "max", "keep_top", "real_percentile") if k in th), "min")
        return (f"{head}, but the run kept no synthetic row ('{name}' removed the most, "
                f"{worst['removed']} of {seen}, at {key} {th.get(key)}; see the funnel in "
                f"{run_dir / 'stats.json'}): loosen it from the stored scores, "
                f"`translate-synth refilter {run_dir} --set filters.{name}.{key}=...`, or "
                "rerun `translate-synth run` with a better model or more monolingual text")
    k = 50 if kept is None else max(1, min(500, round(kept * 0.05)))
    return (f"{head}: hold some of the {'' if kept is None else f'{kept} '}accepted synthetic "
            f"rows out as a count: `translate-synth refilter {run_dir} --set "
            f"curriculum.valid_synthetic={k}` (a fraction of few rows can round to none)")


def oriented(r: dict, tag: bool, reverse: bool) -> tuple[str, str]:
    """(source, target) of a row in the training direction (``reverse``: target first); a
    back-translated source tagged ``<BT> `` when ``tag`` (forward only), untagged otherwise."""
    s, g = r["source"], r["target"]
    if r.get("origin") == "bt":
        if s.startswith(BT_PREFIX) and (reverse or not tag):
            s = s[len(BT_PREFIX):]
        elif tag and not reverse and not s.startswith(BT_PREFIX):
            s = BT_PREFIX + s
    return (g, s) if reverse else (s, g)


def stage_files(cur) -> dict[str, str]:
    """{stage name: its file}, in the curriculum's order: ``train.<stage>.jsonl``, or
    ``train.jsonl`` as one stage named ``train`` when the run has no curriculum."""
    if cur.enabled and cur.stages:
        return {s.name: f"train.{s.name}.jsonl" for s in cur.stages}
    return {"train": "train.jsonl"}


def load_run(run_dir: Path, sets=()) -> RunData:
    """The run's resolved config with ``train.*`` overrides, its stages and valid sets."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    man = run_dir / "manifest.json"
    raw = {k: v for k, v in manifest["config"].items() if k != "output"}
    cfg = build_config(raw, f"{man} config", overrides=train_overrides(sets))
    t = cfg.train
    check_stage_budget(t)
    src, tgt = (cfg.lang, cfg.source_lang) if t.reverse else (cfg.source_lang, cfg.lang)
    cur = cfg.curriculum

    vs = run_dir / "valid_synthetic.jsonl"
    if not vs.is_file():
        raise UserError(no_synthetic_valid(run_dir))
    shas = {}

    def read(name: str) -> list[dict]:
        p = run_dir / name
        rows = read_pairs(p)
        shas[name] = file_sha256(p)
        return rows

    def pair(r: dict, tag: bool) -> tuple[str, str]:
        return oriented(r, tag, t.reverse)

    stages = []
    names = stage_files(cur)
    for name, file in names.items():
        rows = read(file)
        stages.append(Stage(name, file, [pair(r, cur.tag_bt) for r in rows],
                            [r.get("origin", "?") for r in rows]))
    unknown = set(t.stage_steps) - set(names)
    if unknown:
        raise UserError(f"train.stage_steps: no stage {sorted(unknown)[0]!r} in this run (its "
                        f"stages, in order: {', '.join(names)})")
    if not any(s.pairs for s in stages):
        files = ", ".join(s.file for s in stages)
        raise UserError(f"{run_dir}: every training stage is empty ({files}): nothing to train on")
    valid = [pair(r, False) for r in read("valid.jsonl")]
    if not valid:
        raise UserError(f"{run_dir}/valid.jsonl has no rows: train chooses its best checkpoint "
                        "on the real valid set; rerun `translate-synth run` with split.valid > 0")
    # may be empty (no accepted row shares no side with training rows): then the divergence
    # alarm cannot judge, and says so at every evaluation
    valid_syn = [pair(r, cur.tag_bt) for r in read("valid_synthetic.jsonl")]
    flat = read("train.jsonl") if (run_dir / "train.jsonl").is_file() else \
        [r for s in stages for r in ({"source": a, "target": b, "origin": o}
                                     for (a, b), o in zip(s.pairs, s.origins))]
    real = [pair(r, False) for r in flat if r.get("origin") == "real"]
    texts = []
    for r in flat:
        s, g = pair(r, cur.tag_bt)
        texts += [s, g]
    return RunData(run_dir, cfg, src, tgt, stages, valid, valid_syn, [g for _, g in real],
                   texts, shas)


def allocate_steps(sizes: list[int], names: list[str], total: int | None, fixed: dict,
                   epoch_batches: list[int], epochs: float, mode: str = "rows") -> list[int]:
    """Steps per stage: ``fixed`` ones first, the rest of ``total`` by rows (``mode`` rows) or
    in equal shares (``equal``), largest remainder; ``stale``: the plan if every stage used its
    whole cap (``stale_cap``). Without a total, ``epochs`` passes of each stage. Empty stages
    get none."""
    if total is None:
        return [fixed.get(n, math.ceil(epochs * b)) if s else 0
                for n, s, b in zip(names, sizes, epoch_batches)]
    taken = sum(fixed.get(n, 0) for n in names)
    if taken > total:
        raise UserError(f"train.stage_steps asks for {taken} steps, more than train.max_steps "
                        f"{total}: lower one of them")
    if mode == "stale":
        out, step = [], 0
        for i in range(len(names)):
            out.append(stale_cap(i, step, sizes, names, total, fixed))
            step += out[-1]
        return out
    rest = total - taken
    free = [i for i, n in enumerate(names) if n not in fixed and sizes[i]]
    out = [fixed.get(n, 0) for n in names]
    weights = [1 if mode == "equal" else sizes[i] for i in free]
    weight = sum(weights)
    if not free or not weight:
        return out
    share = [rest * w / weight for w in weights]
    floor = [int(x) for x in share]
    left = rest - sum(floor)
    for j in sorted(range(len(free)), key=lambda j: (-(share[j] - floor[j]), j))[:left]:
        floor[j] += 1
    for j, i in enumerate(free):
        out[i] = floor[j]
    return out


def stale_cap(i: int, step: int, sizes: list[int], names: list[str], total: int,
              fixed: dict) -> int:
    """``stage_budget`` stale: the most steps stage ``i`` may take when it starts after ``step``
    steps. A stage named in ``stage_steps`` takes its own; any other non-empty stage all steps
    left minus the later named stages' own and a reserve for each later other non-empty stage
    (``max(1, R // (2 k))``, R: steps not named, k: stages sharing them), so a stage that stops
    early (``train.patience``) leaves its steps to the later ones and none starves."""
    if not sizes[i]:
        return 0
    if names[i] in fixed:
        return fixed[names[i]]
    free = [j for j, n in enumerate(names) if n not in fixed and sizes[j]]
    rest = total - sum(fixed.get(n, 0) for n in names)
    reserve = max(1, rest // (2 * len(free)))
    later = [j for j in range(i + 1, len(names)) if sizes[j]]
    held = sum(fixed[names[j]] if names[j] in fixed else reserve for j in later)
    return max(0, total - step - held)


def check_stage_budget(t) -> None:
    """Refuse a ``train.stage_budget`` its settings cannot give (one line)."""
    mode = t.stage_budget
    if mode != "rows" and t.max_steps is None:
        raise UserError(f"train.stage_budget={mode} shares train.max_steps between the stages: "
                        "give --max-steps N (or train.max_steps), or keep stage_budget rows "
                        "(train.epochs passes of each stage)")
    if mode == "stale" and not t.patience:
        raise UserError("train.stage_budget=stale trains each stage until its real valid score "
                        "has not improved for train.patience evaluations: set train.patience "
                        ">= 1 (it is 0), or use stage_budget rows or equal")


def epoch_batches(lengths: np.ndarray, max_tokens: int, seed: int, stage: str,
                  epoch: int) -> list[list[int]]:
    """The batches of one pass over a stage: a seeded shuffle, sorted by length in buckets of
    ``BUCKET_ROWS``, cut at ``max_tokens`` padded tokens, in a seeded order."""
    rng = np.random.default_rng(stable_int(seed, "train-batches", stage, epoch))
    perm = rng.permutation(len(lengths))
    cut = token_batches(lengths[perm].tolist(), max_tokens, max_tokens, window=BUCKET_ROWS)
    batches = [perm[b].tolist() for b in cut]
    return [batches[i] for i in rng.permutation(len(batches))]


class StageStream:
    """The batches of one stage, pass after pass: ``next()`` gives (epoch, row indices);
    ``skip(n)`` jumps over n batches, ``rewind_to(n)`` starts over and jumps over n (a
    resume)."""

    def __init__(self, lengths: np.ndarray, max_tokens: int, seed: int, stage: str):
        self.lengths, self.max_tokens, self.seed, self.stage = lengths, max_tokens, seed, stage
        self.epoch, self._batches, self._i = -1, [], 0

    def __next__(self) -> tuple[int, list[int]]:
        if self._i >= len(self._batches):
            self.epoch += 1
            self._batches = epoch_batches(self.lengths, self.max_tokens, self.seed, self.stage,
                                          self.epoch)
            self._i = 0
        b = self._batches[self._i]
        self._i += 1
        return self.epoch, b

    def skip(self, n: int) -> None:
        for _ in range(n):
            next(self)

    def rewind_to(self, n: int) -> None:
        """Start over at the first pass, then jump over ``n`` batches (a stage started or
        resumed after ``n`` of its steps)."""
        self.epoch, self._batches, self._i = -1, [], 0
        self.skip(n)

    def batches_per_epoch(self) -> int:
        return len(epoch_batches(self.lengths, self.max_tokens, self.seed, self.stage, 0))

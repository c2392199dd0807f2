"""``translate-synth export``: a finished run's training files in the formats trainers read.

The parts exported are the run's own files, in this order: ``train`` (``train.jsonl``),
``valid``, ``test``, ``valid_synthetic`` (when the run has one) and one part per curriculum stage
(``train.<stage>.jsonl``, in the order of ``curriculum.stages``). Formats:

- ``hf``: a ``datasets.DatasetDict`` (``save_to_disk``) with one split per part, the stages
  named after the stage (``train.mixed.jsonl`` -> split ``mixed``); columns ``id``, ``origin``,
  ``translation`` ({source_lang: .., lang: ..}, a ``datasets.Translation`` feature) and
  ``weight`` where the stage sets weights.
- ``text``: per part ``<stem>.<source_lang>`` and ``<stem>.<lang>`` (line i of one translates
  line i of the other; the stem is the JSONL file's: ``train``, ``train.mixed``...) as Marian,
  fairseq and OpenNMT read, and ``<stem>.origin`` (and ``<stem>.weight``) line-aligned beside.
- ``tsv``: per part ``<stem>.tsv``, ``source<TAB>target`` a line, no header; ``<stem>.origin``
  beside.

Text that would break a line or a field (a line break or tab a model emitted) is written with
its whitespace collapsed (``text.clean``) and counted. Back-translation tags: by default the
bt sources are tagged as ``translate-synth train`` reads the run (``<BT> `` in every part when
the run set ``curriculum.tag_bt``, else not at all); ``tag=TAG`` tags every bt source once with
TAG (a run's own ``<BT> `` is replaced, never doubled); ``tag=""`` removes the run's tag.
Everything is written into a temporary directory beside ``out`` and renamed into place, with
``export.json`` (what was exported, from which run) inside.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from translate_synth.errors import UserError
from translate_synth.rundir import read_jsonl, read_manifest
from translate_synth.text import clean

log = logging.getLogger(__name__)

FORMATS = ("hf", "text", "tsv")
RUN_TAG = "<BT> "  # what curriculum.tag_bt writes (curriculum.project)
DEFAULT_TAG = "<BT>"
SPLITS = ("train", "valid", "test", "valid_synthetic")
EXPORT_FORMAT = 1
# characters that end a line for some reader (str.splitlines, Python, most C readers) or a
# TSV field
_BREAKS = re.compile("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SPLIT_NAME = re.compile(r"^\w+$")


def plan_parts(run_dir: Path, manifest: dict) -> list[dict]:
    """[{name (hf split), stem, file, stage, tagged_by_run}] of the run, in export order."""
    cfg = manifest["config"]
    cur = cfg.get("curriculum") or {}
    listed = manifest.get("outputs")
    run_tags = bool(cur.get("tag_bt"))
    parts = []
    for name in SPLITS:
        file = f"{name}.jsonl"
        if name == "valid_synthetic" and not _present(run_dir, file, listed):
            continue
        parts.append({"name": name, "stem": name, "file": file, "stage": None,
                      "tagged_by_run": run_tags and name == "train"})
    if cur.get("enabled", True):
        taken = set(SPLITS)
        for st in cur.get("stages") or []:
            stage = st["name"]
            name = stage if _SPLIT_NAME.match(stage) and stage not in taken else \
                "train_" + re.sub(r"\W", "_", stage)
            while name in taken:
                name += "_"
            taken.add(name)
            parts.append({"name": name, "stem": f"train.{stage}", "file": f"train.{stage}.jsonl",
                          "stage": stage, "tagged_by_run": run_tags})
    for p in parts:
        path = run_dir / p["file"]
        if not path.is_file():
            raise UserError(f"{path}: missing; the run directory is incomplete: rerun "
                            "`translate-synth run` (or `translate-synth refilter`)")
        want = (listed.get(p["file"]) or {}).get("rows") if isinstance(listed, dict) else None
        if isinstance(want, int):
            with open(path, "rb") as fh:
                have = sum(1 for _ in fh)
            if have != want:
                raise UserError(f"{path}: {have:,} lines, but the run wrote {want:,} "
                                "(manifest.json): the file changed since; rerun `translate-synth "
                                "run` or `translate-synth refilter`")
    return parts


def _present(run_dir: Path, file: str, listed) -> bool:
    if isinstance(listed, dict):
        return file in listed
    return (run_dir / file).is_file()


def check_out(out: Path, run_dir: Path) -> None:
    o, r = out.resolve(), run_dir.resolve()
    if o == r or r in o.parents:
        raise UserError(f"--out {out}: inside the run directory {run_dir}; export never writes "
                        "there: give another directory")
    if o in r.parents:
        raise UserError(f"--out {out}: holds the run directory {run_dir}, which an export "
                        "would replace: give another directory")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory: give another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / "export.json").is_file():
        raise UserError(f"--out {out}: not empty and not an earlier export (no export.json); "
                        "give a new or empty directory")


def check_tag(tag: str | None) -> None:
    if tag and (any(c.isspace() for c in tag) or not tag.isprintable()):
        raise UserError(f"--bt-tag {tag!r}: one token without spaces, tabs or line breaks, e.g. "
                        f"'{DEFAULT_TAG}'")


class Rows:
    """One part's rows with the back-translation tag decided; counts what it changed."""

    def __init__(self, run_dir: Path, part: dict, tag: str | None, flatten: bool):
        self.path, self.part, self.tag, self.flatten = run_dir / part["file"], part, tag, flatten
        self.rows = self.tagged = self.flattened = 0
        self.origins: dict[str, int] = {}
        self.weights = False

    def __iter__(self):
        for r in read_jsonl(self.path):
            src, tgt, origin = str(r.get("source", "")), str(r.get("target", "")), \
                r.get("origin") or "unknown"
            if origin == "bt":
                if self.part["tagged_by_run"] and src.startswith(RUN_TAG):
                    src = src[len(RUN_TAG):]
                if self.tag:
                    src = f"{self.tag} {src}"
                    self.tagged += 1
            if self.flatten:
                fixed = [clean(t) if _BREAKS.search(t) else t for t in (src, tgt)]
                self.flattened += sum(a != b for a, b in zip(fixed, (src, tgt)))
                src, tgt = fixed
            self.rows += 1
            self.origins[origin] = self.origins.get(origin, 0) + 1
            if "weight" in r:
                self.weights = True
            yield {"id": str(r.get("id", "")), "origin": origin, "source": src, "target": tgt,
                   "weight": r.get("weight")}


def export_run(run_dir: Path, fmt: str, out: Path, tag: str | None = None) -> dict:
    """Export ``run_dir`` as ``fmt`` into ``out``; returns export.json's content.

    ``tag``: None follows the run (``<BT>`` when it set curriculum.tag_bt), a string tags every
    bt source with it, "" tags none."""
    run_dir, out = Path(run_dir), Path(out)
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: one of {', '.join(FORMATS)}")
    manifest = read_manifest(run_dir)
    src, tgt = manifest.get("source_lang"), manifest.get("lang")
    if not src or not tgt or src == tgt:
        raise UserError(f"{run_dir / 'manifest.json'}: no source_lang/lang pair; rerun "
                        "`translate-synth run`")
    check_out(out, run_dir)
    check_tag(tag)
    run_tags = bool((manifest["config"].get("curriculum") or {}).get("tag_bt"))
    if tag is None:
        tag = DEFAULT_TAG if run_tags else ""
        if run_tags:
            log.info(f"export: the run tags back-translations (curriculum.tag_bt): bt sources "
                     f"carry '{DEFAULT_TAG}' in every split, as `translate-synth train` reads "
                     "them (--no-tag-bt removes it)")
    parts = plan_parts(run_dir, manifest)
    for p in parts:
        if p["stage"] is not None and p["name"] != p["stage"]:
            log.info(f"export: stage '{p['stage']}' is split '{p['name']}' (a split name is "
                     "letters, digits and _, and not train/valid/test/valid_synthetic)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    except OSError as e:
        raise UserError(f"--out {out}: cannot write there ({e.strerror})") from None
    try:
        got = {"hf": _write_hf, "text": _write_text, "tsv": _write_tsv}[fmt](
            run_dir, parts, tmp, src, tgt, tag)
        info = {"format": EXPORT_FORMAT, "kind": "translate-synth export", "export_format": fmt,
                "run": {"dir": str(run_dir.resolve()), "fingerprint": manifest.get("fingerprint"),
                        "lang": tgt, "source_lang": src},
                "bt_tag": tag or None, "run_tagged_bt": run_tags,
                "splits": {r.part["name"]: {"file": r.part["file"], "stage": r.part["stage"],
                                            "rows": r.rows, "origins": r.origins,
                                            "bt_tagged": r.tagged, "files": files,
                                            "whitespace_collapsed": r.flattened}
                           for r, files in got}}
        (tmp / "export.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
        for d in [tmp, *tmp.rglob("*")]:
            os.chmod(d, 0o755 if d.is_dir() else 0o644)
        _swap_in(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    fixed = sum(s["whitespace_collapsed"] for s in info["splits"].values())
    if fixed:
        log.info(f"export: {fixed:,} text(s) held a line break or tab: written with their "
                 "whitespace collapsed to single spaces")
    return info


def _swap_in(tmp: Path, out: Path) -> None:
    """Rename the finished export into place; an earlier export there is replaced whole."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "x")
    try:
        os.replace(tmp, out)
    except OSError:
        if old is not None:
            os.replace(old / "x", out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _write_hf(run_dir, parts, tmp, src, tgt, tag):
    import datasets
    from datasets import Dataset, DatasetDict, Features, Translation, Value

    datasets.disable_progress_bars()
    got, splits = [], {}
    for p in parts:
        rows = Rows(run_dir, p, tag, flatten=False)
        cols: dict[str, list] = {"id": [], "origin": [], "translation": [], "weight": []}
        for r in rows:
            cols["id"].append(r["id"])
            cols["origin"].append(r["origin"])
            cols["translation"].append({src: r["source"], tgt: r["target"]})
            cols["weight"].append(r["weight"])
        feats = {"id": Value("string"), "origin": Value("string"),
                 "translation": Translation(languages=[src, tgt])}
        if rows.weights:
            feats["weight"] = Value("float64")
            cols["weight"] = [1.0 if w is None else float(w) for w in cols["weight"]]
        else:
            del cols["weight"]
        splits[p["name"]] = Dataset.from_dict(cols, features=Features(feats))
        got.append((rows, [p["name"]]))
        log.info(f"export: {p['file']} -> split {p['name']} ({rows.rows:,} rows)")
    DatasetDict(splits).save_to_disk(str(tmp))
    return got


def _write_lines(run_dir, parts, tmp, tag, names, line):
    """Per part, one file per name in ``names(stem)``, the fields ``line(row)`` gives, aligned."""
    got = []
    for p in parts:
        rows = Rows(run_dir, p, tag, flatten=True)
        files = names(p["stem"])
        handles = [open(tmp / f, "w", encoding="utf-8", newline="\n") for f in files]
        weights = []
        try:
            for r in rows:
                for fh, field in zip(handles, line(r)):
                    fh.write(field + "\n")
                weights.append(r["weight"])
        finally:
            for fh in handles:
                fh.close()
        if rows.weights:
            files.append(f"{p['stem']}.weight")
            (tmp / files[-1]).write_text("".join(f"{1.0 if w is None else float(w)}\n"
                                                 for w in weights), encoding="utf-8")
        got.append((rows, files))
        log.info(f"export: {p['file']} -> {', '.join(files)} ({rows.rows:,} rows)")
    return got


def _write_text(run_dir, parts, tmp, src, tgt, tag):
    return _write_lines(run_dir, parts, tmp, tag,
                        lambda stem: [f"{stem}.{src}", f"{stem}.{tgt}", f"{stem}.origin"],
                        lambda r: (r["source"], r["target"], r["origin"]))


def _write_tsv(run_dir, parts, tmp, src, tgt, tag):
    return _write_lines(run_dir, parts, tmp, tag,
                        lambda stem: [f"{stem}.tsv", f"{stem}.origin"],
                        lambda r: (f"{r['source']}\t{r['target']}", r["origin"]))


def summary_line(info: dict, out: Path) -> str:
    parts = ", ".join(f"{n} {s['rows']:,}" for n, s in info["splits"].items())
    how = {"hf": f"datasets.load_from_disk('{out}')", "text": "parallel text files",
           "tsv": "source<TAB>target files"}[info["export_format"]]
    tag = f"; bt sources tagged '{info['bt_tag']}'" if info["bt_tag"] else ""
    return f"export: {parts} rows -> {out} ({how}{tag})"


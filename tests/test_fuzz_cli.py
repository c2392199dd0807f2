"""Fuzz the CLI as a user drives it: --set keys and values, flag combinations, commands.

Every case must end with exit 0 or a one-line ``error:`` (exit 2), never ``internal error``,
never a traceback, and never partial outputs (the resume journal in ``.work/`` aside). Config
overrides are fuzzed through ``build_config`` directly with many examples; the whole CLI with few
derandomised examples on a tiny model, ``--limit`` <= 5 and short decoding.
"""

import json

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translate_synth.cli import main
from translate_synth.config import build_config, find_lang_config, read_yaml
from translate_synth.errors import UserError

MANY = settings(max_examples=300, deadline=None, derandomize=True)
FEW = settings(max_examples=12, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])

KNOWN = ["lang", "seed", "source_lang", "model.backend", "model.id", "model.device",
         "model.family", "model.ids", "model.ids.en-sw", "data.limit", "data.max_chars",
         "data.parallel", "data.parallel.0", "data.parallel.0.keys", "data.parallel.0.columns",
         "data.parallel.5.path", "data.long_lines", "synthesis.decoding.beam_size",
         "synthesis.decoding", "synthesis.paraphrase.methods", "synthesis.chunk_size",
         "filters", "filters.0", "filters.0.min", "filters.99.max", "filters.rt_chrf.min",
         "filters.select.keep_top", "filters.duplicate.mode", "filters.nonesuch.min",
         "filters.-1.min", "split.valid", "split.test", "curriculum.stages",
         "curriculum.stages.0.real", "curriculum.sort_by", "curriculum.valid_synthetic",
         "collapse.alarms.rare_coverage_ratio", "collapse.alarms.nonesuch", "quality.min_pairs",
         "output.dir", "executor.name", "cache.dir", "tracking", "scoring.bleu_tokenize",
         "model", "data", "codes.nllb", "a.b.c", "", ".", "model..id"]
keys = st.sampled_from(KNOWN) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz._-0123456789",
                                        min_size=1, max_size=20)
scalars = st.sampled_from(["1", "0", "-1", "0.5", "1e9", "true", "null", "~", "''", "abc",
                           "[]", "{}", "[1, 2]", "{a: 1}", "[{type: rt_chrf, min: 30}]",
                           "{path: x.tsv}", "[x.tsv]", "'{'", "[", "!!python/object:os.system",
                           "&a [*a]", "1:2", "nan", "inf", ".inf", "yes", "cuda:7", "-"])
values = scalars | st.text(max_size=15)


def _clean_error(fn):
    try:
        fn()
    except UserError as e:
        msg = str(e)
        assert msg and "\n" not in msg and "Traceback" not in msg, msg


@MANY
@given(pairs=st.lists(st.tuples(keys, values), min_size=1, max_size=3))
def test_any_set_override_validates_or_fails_in_one_line(pairs):
    raw, _ = read_yaml(find_lang_config("pt"))
    _clean_error(lambda: build_config(raw, "pt.yaml", overrides=[f"{k}={v}" for k, v in pairs]))


def _check(res, out_root):
    text = res.output
    assert "internal error" not in text and "Traceback" not in text, text[-1500:]
    assert res.exit_code in (0, 2), (res.exit_code, text[-1500:])
    if res.exit_code == 2:
        errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, text[-1500:]
        run = out_root / "sw"
        if run.exists():  # no partial outputs: nothing but the resume journal
            assert {p.name for p in run.iterdir()} <= {".work"}, sorted(run.iterdir())


@FEW
@given(backend=st.sampled_from([None, "transformers", "ctranslate2", "bergamot"]),
       model=st.sampled_from(["tiny", None, "does/not-exist", "/no/such/dir"]),
       limit=st.sampled_from([None, 1, 3, 5, 0, -2]),
       seed=st.sampled_from([None, 0, 7, -1, 2**40]),
       extra=st.lists(st.tuples(st.sampled_from(["split.valid", "split.test",
                                                 "synthesis.decoding.beam_size",
                                                 "filters.rt_chrf.min", "curriculum.sort_by",
                                                 "synthesis.paraphrase.methods",
                                                 "quality.min_pairs"]),
                                st.sampled_from(["1", "0", "2", "bogus", "[sample]", "0.5",
                                                 "fluency_synthetic", "-3"])), max_size=2))
def test_run_with_any_flag_combination_ends_cleanly(tmp_path_factory, tiny_nllb, toy_pairs,
                                                     backend, model, limit, seed, extra):
    tmp = tmp_path_factory.mktemp("fzcli")
    par = tmp / "par.tsv"
    par.write_text("".join(f"{e}\t{s}\n" for e, s in toy_pairs[:12]), encoding="utf-8")
    args = ["run", "--lang", "sw", "--out", str(tmp / "out"), "--parallel", str(par),
            "--no-report", "--quiet", "--set", "synthesis.decoding.max_new_tokens=6",
            "--set", "synthesis.decoding.beam_size=1", "--set", f"cache.dir={tmp / 'cache'}"]
    if backend:
        args += ["--backend", backend]
    if model:
        args += ["--model", str(tiny_nllb) if model == "tiny" else model]
    args += ["--limit", str(limit if limit is not None else 5)]
    if seed is not None:
        args += ["--seed", str(seed)]
    for k, v in extra:
        args += ["--set", f"{k}={v}"]
    res = CliRunner().invoke(main, args)
    _check(res, tmp / "out")


@FEW
@given(sets=st.lists(st.tuples(keys, values), min_size=1, max_size=2),
       command=st.sampled_from(["validate", "refilter", "report"]))
def test_validate_refilter_report_end_cleanly(tmp_path_factory, tiny_nllb, toy_pairs, sets,
                                              command):
    tmp = tmp_path_factory.mktemp("fzcmd")
    if command == "validate":
        cfg = tmp / "c.yaml"
        cfg.write_text("lang: sw\n", encoding="utf-8")
        args = ["validate", str(cfg)] + [a for k, v in sets for a in ("--set", f"{k}={v}")]
    elif command == "refilter":
        args = ["refilter", str(tmp / "no-run")] + [a for k, v in sets
                                                    for a in ("--set", f"{k}={v}")]
    else:
        bad = tmp / "bad"
        bad.mkdir()
        (bad / "stats.json").write_text(json.dumps({k: v for k, v in sets}), encoding="utf-8")
        args = ["report", str(bad), "--out", str(tmp / "rep")]
    res = CliRunner().invoke(main, args)
    text = res.output
    assert "internal error" not in text and "Traceback" not in text, text[-1500:]
    assert res.exit_code in (0, 2), (res.exit_code, text[-1500:])

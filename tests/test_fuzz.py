"""Fuzz ingest and config loading: any input loads or fails with the clean one-line error."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translate_synth.config import DataConfig, DataFile, build_config, load_config
from translate_synth.errors import UserError
from translate_synth.ingest import InputStats, read_mono, read_parallel

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ok_or_clean(fn):
    try:
        return fn()
    except UserError as e:
        msg = str(e)
        assert msg and "\n" not in msg and "Traceback" not in msg
        return None


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["text", "tsv", "jsonl"]))
def test_any_bytes_read_or_fail_cleanly(tmp_path_factory, data, fmt):
    p = tmp_path_factory.mktemp("fz") / f"in.{ {'text': 'txt'}.get(fmt, fmt) }"
    p.write_bytes(data)
    f = DataFile(path=str(p), format=fmt)
    cfg = DataConfig()
    if fmt == "text":
        rows = _ok_or_clean(lambda: list(read_mono(f, "pt", cfg, InputStats(str(p), "m"))))
        for r in rows or []:
            assert isinstance(r, str) and r == r.strip() and r
    else:
        rows = _ok_or_clean(lambda: list(read_parallel(f, "en", "pt", cfg,
                                                       InputStats(str(p), "p"))))
        for s, t in rows or []:
            assert isinstance(s, str) and isinstance(t, str)


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_in_a_jsonl_line_reads_or_fails_cleanly(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("fz") / "in.jsonl"
    p.write_text(json.dumps({"en": text, "pt": text[::-1]}) + "\n" + text + "\n",
                 encoding="utf-8")
    _ok_or_clean(lambda: list(read_parallel(DataFile(path=str(p)), "en", "pt", DataConfig(),
                                            InputStats(str(p), "p"))))


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=3),
    max_leaves=8)


@FUZZ
@given(raw=st.dictionaries(st.sampled_from(["lang", "model", "data", "synthesis", "filters",
                                            "split", "curriculum", "collapse", "quality", "seed",
                                            "scoring", "output", "nonsense"]), yaml_values,
                           max_size=5))
def test_any_config_mapping_validates_or_fails_cleanly(raw):
    _ok_or_clean(lambda: build_config({"lang": "sw", **raw}))


@FUZZ
@given(text=st.text(max_size=300))
def test_any_yaml_text_loads_or_fails_cleanly(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("fz") / "c.yaml"
    p.write_text(text, encoding="utf-8")
    _ok_or_clean(lambda: load_config(p))

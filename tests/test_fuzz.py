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


# ------------------------------------------------------------------ input files: encodings, BOMs,
# columns, sizes, compression, junk; through the readers (many examples) and `run` (a few)
import gzip  # noqa: E402
import re  # noqa: E402

import yaml  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from translate_synth.cli import main  # noqa: E402
from translate_synth.text import clean  # noqa: E402

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
             "latin-1", "cp1252"]
# whole-file problems: an error even under data.on_error: skip (no line to skip)
WHOLE_FILE = re.compile(r"the file is empty|this is UTF-(16|32) text|NUL byte: this looks like a "
                        r"binary file|cannot decompress|plain text has one sentence|"
                        r"\.parquet: (no column|not a readable Parquet file)")
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | \
    st.sampled_from(["Olá mundo", "مرحبا", "你好，世界", "👩🏽‍💻", "e\u0301", " \u00a0 ", "\t", "\r",
                     "\x00", "\ufeff", "\u2028", '"', "{", "\\"])
fields = st.builds(lambda parts, rep: "".join(parts) * rep,
                   st.lists(words, max_size=4), st.sampled_from([1, 1, 1, 2, 60, 400]))
json_values = st.recursive(st.none() | st.booleans() | st.integers() | fields,
                           lambda c: st.lists(c, max_size=2) | st.dictionaries(
                               st.sampled_from(["en", "pt", "translation", "x"]), c, max_size=3),
                           max_leaves=5)


@st.composite
def input_files(draw, fmt=None):
    """(format, the rows as written, file bytes, file suffix)."""
    fmt = fmt or draw(st.sampled_from(["text", "tsv", "jsonl"]))
    n = draw(st.integers(0, 8))
    if fmt == "text":
        rows = [draw(fields) for _ in range(n)]
    elif fmt == "tsv":
        rows = ["\t".join(draw(st.lists(fields, min_size=0, max_size=4))) for _ in range(n)]
    else:
        rows = [draw(st.one_of(
            st.builds(lambda e, p: json.dumps({"en": e, "pt": p}, ensure_ascii=draw(st.booleans())),
                      fields, fields),
            st.builds(lambda e, p: json.dumps({"translation": {"en": e, "pt": p}}), fields, fields),
            json_values.map(json.dumps), fields,
            st.sampled_from(["[" * 5000 + "]" * 5000, "1" * 5000,
                             '{"en": "a\\ud800", "pt": "b"}'])))
            for _ in range(n)]
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text = eol.join(rows) + (eol if draw(st.booleans()) else "")
    enc = draw(st.sampled_from(ENCODINGS))
    data = text.encode(enc, errors="replace")
    if draw(st.integers(0, 9)) == 0 and data:  # a few junk bytes somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    gz = draw(st.integers(0, 5)) == 0
    if gz:
        data = gzip.compress(data, mtime=0)
        if draw(st.booleans()):
            data = data[: max(1, len(data) - draw(st.integers(1, 20)))]  # truncated
    suffix = {"text": ".txt", "tsv": ".tsv", "jsonl": ".jsonl"}[fmt] + (".gz" if gz else "")
    return fmt, rows, text, enc, data, suffix


data_configs = st.builds(
    lambda mc, ll, oe, lim: DataConfig(max_chars=mc, long_lines=ll, on_error=oe, limit=lim),
    st.sampled_from([10, 50, 1000]), st.sampled_from(["skip", "truncate"]),
    st.sampled_from(["fail", "skip"]), st.none() | st.integers(1, 5))


def _check_error(e: UserError, path, data: DataConfig) -> str:
    msg = str(e)
    assert msg.startswith(str(path)), msg  # names the file first
    assert "\n" not in msg and "Traceback" not in msg and msg == " ".join(msg.split())
    if not WHOLE_FILE.search(msg):  # a row problem names its line (or Parquet row)
        assert re.match(rf"{re.escape(str(path))}(:\d+:|: row \d+:)", msg), msg
        assert data.on_error == "fail", f"skip mode raised on a row: {msg}"
    return msg


FILE_FUZZ = settings(max_examples=400, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])


@FILE_FUZZ
@given(f=input_files(), data=data_configs)
def test_fuzzed_files_read_cleanly_or_fail_on_one_line(tmp_path_factory, f, data):
    fmt, rows, text, enc, raw, suffix = f
    p = tmp_path_factory.mktemp("fz") / f"in{suffix}"
    p.write_bytes(raw)
    stats = InputStats(str(p), "x")
    df = DataFile(path=str(p))
    try:
        if fmt == "text":
            got = [(t,) for t in read_mono(df, "pt", data, stats)]
        else:
            got = list(read_parallel(df, "en", "pt", data, stats))
    except UserError as e:
        msg = _check_error(e, p, data)
        if enc in ("utf-16", "utf-32") and raw == text.encode(enc):  # a BOM: always recognised
            # (but a UTF-16 BOM then U+0000 is the UTF-32 BOM)
            assert f"this is {enc.upper() if text[:1] != chr(0) else 'UTF-'}" in msg
        return
    for texts in got:
        for t in texts:
            assert t and t == clean(t) and len(t) <= data.max_chars
            t.encode("utf-8")  # no lone surrogates reach the outputs
    d = stats.as_dict()
    json.dumps(d)
    assert d["read"] == d["kept"] + sum(v for k, v in d["skipped"].items()
                                        if k != "truncated (kept)")
    assert d["kept"] == len(got) and set(d["skipped"]) <= {"empty", "too_long",
                                                           "truncated (kept)", "invalid"}
    if enc in ("utf-8", "utf-8-sig") and raw == text.encode(enc) and fmt == "text":
        lines = [clean(x) for x in text.replace("\r\n", "\n").split("\n")]
        if text.endswith("\n"):
            lines = lines[:-1]
        if "\x00" not in text and "\r" not in text.replace("\r\n", "\n") and not any(
                c in text for c in "\x85\u2028\u2029\x0b\x0c\x1c\x1d\x1e"):
            want = lines[: data.limit] if data.limit else lines
            want = [t if len(t) <= data.max_chars else t[: data.max_chars].rstrip() for t in want
                    if t and (len(t) <= data.max_chars or data.long_lines == "truncate")]
            assert [t for (t,) in got] == want


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cols=st.dictionaries(st.sampled_from(["en", "pt", "translation", "x"]),
                            st.lists(json_values, min_size=1, max_size=4), min_size=1, max_size=3),
       data=data_configs)
def test_fuzzed_parquet_reads_cleanly_or_fails_on_one_line(tmp_path_factory, cols, data):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = min(len(v) for v in cols.values())
    p = tmp_path_factory.mktemp("fz") / "in.parquet"
    try:
        pq.write_table(pa.table({k: v[:n] for k, v in cols.items()}), p)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return  # not a table pyarrow can build or write: nothing to read
    stats = InputStats(str(p), "x")
    try:
        got = list(read_parallel(DataFile(path=str(p)), "en", "pt", data, stats))
    except UserError as e:
        _check_error(e, p, data)
        return
    assert all(s and t and len(s) <= data.max_chars for s, t in got)
    assert stats.as_dict()["kept"] == len(got)


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(par=st.sampled_from(["tsv", "jsonl"]).flatmap(input_files), mono=input_files("text"),
       on_error=st.sampled_from(["fail", "skip"]), limit=st.integers(1, 5))
def test_fuzzed_files_through_run_exit_0_or_one_error_line(tmp_path_factory, tiny_nllb, par,
                                                          mono, on_error, limit):
    d = tmp_path_factory.mktemp("fzrun")
    paths = []
    for (_, _, _, _, raw, suffix), name in ((par, "par"), (mono, "mono")):
        paths.append(d / f"{name}{suffix}")
        paths[-1].write_bytes(raw)
    cfg = d / "pt.yaml"
    cfg.write_text(yaml.safe_dump({
        "lang": "pt", "seed": 1, "model": {"backend": "transformers", "id": str(tiny_nllb)},
        "synthesis": {"decoding": {"beam_size": 1, "max_new_tokens": 8, "batch_size": 8},
                      "paraphrase": {"methods": ["pivot"]}},
        "quality": {"calibrate": False}, "data": {"on_error": on_error}}), encoding="utf-8")
    out = d / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(out), "--parallel",
                                    str(paths[0]), "--target-mono", str(paths[1]), "--limit",
                                    str(limit), "--no-report", "--quiet"])
    assert "internal error" not in res.output and "Traceback" not in res.output, res.output
    if res.exit_code == 0:
        assert (out / "pt" / "manifest.json").is_file()
        return
    assert res.exit_code == 2, res.output
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), res.stderr
    msg = err[0][len("error: "):]
    if not msg.startswith("nothing to synthesise"):  # both files had no usable line
        path = next(p for p in paths if msg.startswith(str(p)))
        _check_error(UserError(msg), path, DataConfig(on_error=on_error))
    left = [x for x in out.rglob("*") if ".work" not in x.relative_to(out).parts] \
        if out.exists() else []
    assert all(x.is_dir() for x in left), left  # no partial output

"""Fuzz ingest and config loading: any input loads or fails with the clean one-line error."""

import json

from hypothesis import HealthCheck, event, given, settings
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
from translate_synth.layout import looks_like_header  # noqa: E402
from translate_synth.text import clean  # noqa: E402

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
             "latin-1", "cp1252"]
# whole-file problems: an error even under data.on_error: skip (no line to skip)
WHOLE_FILE = re.compile(r"the file is empty|this is UTF-(16|32) text|NUL byte: this looks like a "
                        r"binary file|cannot decompress|plain text has one sentence|"
                        r"\.parquet: (no column|not a readable Parquet file)|: no usable (line|row)"
                        r"|: \d+ tab-separated columns \(|: the header row \(|: header line \d+ "
                        r"\(|: columns \[")
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
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
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
        raw_lines = re.split(r"\r\n|\r|\n", text)  # LF, CRLF and CR all end a line
        if text.endswith(("\n", "\r")):
            raw_lines = raw_lines[:-1]
        first = next((x for x in raw_lines if x.strip()), None)
        if first is not None and looks_like_header([first.lstrip("\ufeff")]):
            raw_lines.remove(first)  # a header (a lone language name): not data
        lines = [clean(x) for x in raw_lines]
        if "\x00" not in text and not any(
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


# ------------------------------------------------------------------ file layouts: columns, headers,
# line endings, blank lines and files, mixed encodings -> exactly the README's reading rules
LANG_WORDS = {"en": ["en", "English", "ENGLISH", "eng", "eng_Latn", "en-US"],
              "pt": ["pt", "Portuguese", "português", "por", "pt-BR", "pt_PT"],
              "sw": ["sw", "Swahili", "kiswahili", "swh_Latn"]}
SIDE_WORDS = {"source": 0, "SRC": 0, "target": 1, "tgt": 1}
OTHER_WORDS = ["id", "text", "score", "sentence", "notes"]  # not language names: data


def _kind(word):
    """What a header word names, by this test's own tables: a language, a side, or nothing."""
    lang = next((c for c, ws in LANG_WORDS.items() if word in ws), None)
    return lang if lang else SIDE_WORDS.get(word)


@st.composite
def layouts(draw):
    keys = draw(st.sampled_from([["en", "pt"], ["en", "sw"], ["pt"]]))
    k = draw(st.sampled_from([len(keys)] * 3 + [1, 2, 3, 4]))
    head = draw(st.sampled_from([None, None, "keys", "keys", "langs", "sides", "other", "mixed"]))
    langs = st.sampled_from(keys * 3 + list(LANG_WORDS)).flatmap(
        lambda c: st.sampled_from(LANG_WORDS[c]))  # mostly the input's own languages
    pool = {"langs": langs, "sides": st.sampled_from(list(SIDE_WORDS)),
            "other": st.sampled_from(OTHER_WORDS),
            "mixed": st.sampled_from(LANG_WORDS["en"] + OTHER_WORDS)}.get(head)
    header = [draw(pool) for _ in range(k)] if pool is not None else None
    if head == "keys":  # the input's own languages, in some order, then any other columns
        order = draw(st.permutations(keys))
        header = [draw(st.sampled_from(LANG_WORDS[c])) for c in order] + [
            draw(st.sampled_from(OTHER_WORDS)) for _ in range(k - len(keys))]
        k = len(header)
    rows = [[f"Row {i} cell {j}." for j in range(k)] for i in range(draw(st.integers(0, 4)))]
    bad = draw(st.none() | st.integers(0, 3)) if rows else None  # a Latin-1 row
    bad = bad if bad is not None and bad < len(rows) else None
    lines = []  # (text, encoding); blank lines anywhere
    for r in ([header] if header else []) + rows:
        lines += [(b, "utf-8") for b in draw(st.lists(st.sampled_from(["", "  "]), max_size=2))]
        lines.append(("\t".join(r), "latin-1" if bad is not None and r is rows[bad] else "utf-8"))
    if bad is not None:
        rows[bad][0] += " ação"
        lines = [(t + " ação" if e == "latin-1" else t, e) for t, e in lines]
    eols = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines) + 1,
                         max_size=len(lines) + 1))
    raw = b"".join(t.encode(e) + eol.encode() for (t, e), eol in zip(lines, eols))
    if not draw(st.booleans()) and raw:
        raw = raw[: -len(eols[len(lines) - 1])]  # no end on the last line
    # (a CR, then a blank line's LF, is one CRLF: count lines in the bytes as written)
    bad_line = next((i + 1 for i, b in enumerate(re.split(rb"\r\n|\r|\n", raw))
                     if b"\xe7" in b), None)
    columns = draw(st.sampled_from(["none", "none", "none", "numbers", "names"]))
    if columns == "numbers":
        columns = [draw(st.integers(0, 3)) for _ in keys]
    elif columns == "names":
        columns = [draw(st.sampled_from(header or ["English"])) for _ in keys]
    else:
        columns = None
    return dict(keys=keys, header=header, rows=rows, bad=bad, bad_line=bad_line, raw=raw,
                columns=columns, opt=draw(st.sampled_from(["auto", "auto", True, False])))


def _expect(lay, on_error):
    """(pairs, None) or (None, 'layout'/'row:N'/'empty'): the README's rules, applied here;
    ``lay['used']``: whether the first line is read as a header."""
    keys, hdr, rows, opt, columns = lay["keys"], lay["header"], lay["rows"], lay["opt"], \
        lay["columns"]
    good = [r for i, r in enumerate(rows) if i != lay["bad"]]
    first = hdr or (good[0] if good else None)
    if on_error == "fail" and lay["bad"] is not None and (hdr is None and lay["bad"] == 0):
        return None, f"row:{lay['bad_line']}"  # a bad line before the first line with text
    if first is None:
        return None, "empty"
    by_name = bool(columns) and any(isinstance(c, str) for c in columns)
    if by_name and opt is False:
        return None, "layout"
    used = lay["used"] = opt is True or (opt == "auto" and (by_name or (
        first is hdr and all(_kind(w) is not None for w in hdr))))
    width = len(keys)
    if columns:
        cols = []
        for c in columns:
            hit = [i for i, f in enumerate(first) if f.casefold() == str(c).casefold()] \
                if isinstance(c, str) else [c]
            if len(hit) != 1:
                return None, "layout"
            cols.append(hit[0])
        for j, c in enumerate(cols):
            w = _kind(first[c]) if used and c < len(first) else None
            if (isinstance(w, str) and w != keys[j]) or (isinstance(w, int) and width == 2
                                                         and w != j):
                return None, "layout"
    elif len(first) > width or (used and len(first) < width):
        return None, "layout"
    elif not used:
        cols = list(range(width))
    else:
        kinds = [_kind(w) for w in first]
        hits = [[i for i, w in enumerate(kinds) if w == key or (isinstance(w, int) and (
            width == 1 or w == j))] for j, key in enumerate(keys)]
        if all(len(h) == 1 for h in hits) and len({h[0] for h in hits}) == width:
            cols = [h[0] for h in hits]
        elif all(w is None or (isinstance(w, int) and (width == 1 or w == i)) or w == keys[i]
                 for i, w in enumerate(kinds)):
            cols = list(range(width))
        else:
            return None, "layout"
    data = ([hdr] if hdr else []) + rows
    if used:
        data = [r for r in data if r is not first]  # the header row: names, not data
    pairs = []
    for r in data:
        if r is not hdr and rows.index(r) == lay["bad"]:
            if on_error == "fail":
                return None, f"row:{lay['bad_line']}"
            continue
        if max(cols) >= len(r) or (not columns and len(r) > width):
            return None, "row"
        pairs.append(tuple(r[c] for c in cols))
    return (pairs, None) if pairs else (None, "empty")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lay=layouts(), on_error=st.sampled_from(["fail", "skip"]))
def test_fuzzed_layouts_read_as_the_rules_say(tmp_path_factory, lay, on_error):
    p = tmp_path_factory.mktemp("fzl") / "in.tsv"
    p.write_bytes(lay["raw"])
    f = DataFile(path=str(p), columns=lay["columns"], header=lay["opt"])
    want, err = _expect(lay, on_error)
    event(f"{(err or 'read').split(':')[0]}, header {'used' if lay.get('used') else 'no'}")
    stats = InputStats(str(p), "x")
    try:
        if len(lay["keys"]) == 1:
            got = [(t,) for t in read_mono(f, lay["keys"][0], DataConfig(on_error=on_error),
                                           stats)]
        else:
            got = list(read_parallel(f, *lay["keys"], DataConfig(on_error=on_error), stats))
    except UserError as e:
        msg = str(e)
        assert err is not None, f"refused a file the rules read: {msg}"
        assert msg.startswith(str(p)) and "\n" not in msg, msg
        if err.startswith("row:"):
            assert msg.startswith(f"{p}:{err[4:]}: not UTF-8"), msg
        elif err == "empty":
            assert "no usable line" in msg or "the file is empty" in msg, msg
        return
    assert err is None, f"read a file the rules refuse ({err}): {got}"
    assert got == want
    assert stats.as_dict()["skipped"].get("header", 0) == lay["used"]  # said on stderr
    assert bool(stats.header) == lay["used"]


@settings(max_examples=200, deadline=None)
@given(raw=st.lists(st.sampled_from([b"a", b"bc", b"\r", b"\n", b"\r\n", b" "]), max_size=30)
       .map(b"".join), chunk=st.integers(1, 6))
def test_line_ends_split_alike_in_any_chunking(raw, chunk):
    """LF, CRLF and CR each end one line, also when a CR and its LF fall in different chunks."""
    import io

    from translate_synth import ingest_lines

    want = re.split(rb"\r\n|\r|\n", raw)
    if want[-1] == b"":
        want.pop()  # the end of the last line is not a line
    assert list(ingest_lines.raw_lines(io.BytesIO(raw), chunk)) == want

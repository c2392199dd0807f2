"""Structure that keeps the code easy to change: no import circle, one stage core."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "translate_synth"


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, at module level or inside functions alike.
    ``from pkg import submodule`` is an edge to the submodule (Python runs the package's
    ``__init__`` first either way, which is not a dependency of the importer on the package)."""
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in mods}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if path.name == "__init__.py" else \
                        name.split(".")[:-1]
                    here = here[:len(here) - node.level + 1]
                    base = ".".join(here + ([base] if base else []))
                subs = {f"{base}.{a.name}" for a in node.names} & set(mods)
                deps |= subs
                if len(subs) < len(node.names) and base in mods:
                    deps.add(base)
        graph[name] = deps - {name}
    return graph


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

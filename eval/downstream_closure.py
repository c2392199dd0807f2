"""The import closure of the downstream study's GPU step (``eval/downstream.py train-eval``).

A stock PyTorch image has torch and numpy; the step needs only the packages of ``CLOSURE``
(installed the ordinary way, so they bring their own dependencies) plus the small wheels of
``SMALL_WHEELS`` (installed with ``pip install --no-deps``). ``block_others()`` installs a
``sys.meta_path`` finder that refuses every other top-level import (the test runs the step under
it on a CPU); ``allowed()`` is what it lets through: the standard library, the closure's
packages and their own dependencies (read from the installed distributions' metadata), the
small wheels, ``translate_synth`` and this directory's modules.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
from pathlib import Path

CLOSURE = ("torch", "transformers", "sentencepiece", "sacrebleu", "numpy", "pyyaml", "click",
           "tqdm", "matplotlib")
# (distribution, version, wheel bytes, import name, why): measured with `pip download --no-deps`
# (2026-12-05, CPython 3.11 manylinux x86_64)
SMALL_WHEELS = (
    ("pydantic", "2.14.3", 494_071, "pydantic", "the config schema"),
    ("pydantic-core", "2.50.4", 2_257_712, "pydantic_core",
     "pydantic's core (compiled: the wheel for your Python; cp311 size)"),
    ("annotated-types", "0.8.0", 13_427, "annotated_types", "pydantic"),
    ("typing-extensions", "4.16.0", 45_571, "typing_extensions", "pydantic"),
    ("typing-inspection", "0.4.5", 14_874, "typing_inspection", "pydantic"),
    ("py3langid", "0.4.0", 4_600_605, "py3langid",
     "the langid filter of a generations round's run (default filter chain)"),
)
HERE = Path(__file__).resolve().parent
BLOCKER = None  # the installed _Blocker, once block_others() ran (train-eval --block-others)


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure_distributions() -> set[str]:
    """The closure's distributions and everything they require (no extras), as installed."""
    from packaging.requirements import Requirement  # a transformers dependency

    seen: set[str] = set()
    todo = list(CLOSURE)
    while todo:
        name = todo.pop()
        if _key(name) in seen:
            continue
        seen.add(_key(name))
        try:
            reqs = md.distribution(name).requires or []
        except md.PackageNotFoundError:
            continue
        for r in reqs:
            req = Requirement(r)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def allowed() -> set[str]:
    dists = closure_distributions() | {_key(w[0]) for w in SMALL_WHEELS}
    tops = {t for t, ds in md.packages_distributions().items()
            if any(_key(d) in dists for d in ds)}
    import pkgutil
    import sysconfig

    lib = Path(sysconfig.get_paths()["stdlib"])
    stdlib = {m.name for m in pkgutil.iter_modules([str(lib), str(lib / "lib-dynload")])}
    local = {p.stem for p in HERE.glob("*.py")}
    return (set(sys.stdlib_module_names) | stdlib | tops | {w[3] for w in SMALL_WHEELS} | local
            | {"translate_synth", "yaml", "_yaml"})


class _Blocker:
    """Takes the place of every ``sys.meta_path`` finder: an allowed top-level name goes to
    them, any other is found by none, so ``import x`` raises ModuleNotFoundError and a probe
    (``importlib.util.find_spec``, as transformers checks optional packages) sees it absent,
    as on an image where it is not installed."""

    def __init__(self, ok: set[str], finders: list):
        self.ok, self.finders = ok, finders
        self.refused: set[str] = set()

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top not in self.ok and top not in sys.builtin_module_names:
            self.refused.add(top)
            return None
        for f in self.finders:
            find = getattr(f, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None:
                return spec
        return None

    def find_distributions(self, *args, **kwargs):  # importlib.metadata: unchanged
        for f in self.finders:
            if hasattr(f, "find_distributions"):
                yield from f.find_distributions(*args, **kwargs)

    def invalidate_caches(self):
        for f in self.finders:
            if hasattr(f, "invalidate_caches"):
                f.invalidate_caches()


def block_others() -> _Blocker:
    """From now on, no top-level import outside ``allowed()`` is found (ModuleNotFoundError)."""
    b = _Blocker(allowed(), list(sys.meta_path))
    sys.meta_path[:] = [b]
    return b


def wheels_text() -> str:
    lines = [f"GPU step import closure: {', '.join(CLOSURE)} (ordinary installs, with their "
             "dependencies), plus these small wheels (pip install --no-deps):"]
    for dist, ver, size, _, why in SMALL_WHEELS:
        lines.append(f"  {dist}=={ver}  {size / 1e6:.2f} MB  ({why})")
    total = sum(w[2] for w in SMALL_WHEELS)
    lines.append(f"  total {total / 1e6:.1f} MB:  pip install --no-deps "
                 + " ".join(f"{d}=={v}" for d, v, *_ in SMALL_WHEELS))
    return "\n".join(lines)

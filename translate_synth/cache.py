"""A content-addressed translation cache on disk (SQLite, WAL: safe with concurrent readers).

Key: sha256 of (backend, model ids and revision, every decoding setting, n, the seed when
sampling, source and target language, text). The same text translated with the same model and
settings is never sent to the model twice: not within a run (forward pass and round trip share
it), not on a re-run, not across languages. Any change of decoding setting is a different key.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

from translate_synth.translator import Translator


def default_dir() -> Path:
    env = os.environ.get("TRANSLATE_SYNTH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "translate-synth"


class CachedTranslator(Translator):
    """Wraps any Translator; only cache misses reach it."""

    def __init__(self, inner: Translator, cache_dir: Path, identity: dict):
        super().__init__()
        self.inner = inner
        self.name = inner.name
        self.supports_sampling = inner.supports_sampling
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.path = cache_dir / "translations.sqlite"
        self.db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.execute("create table if not exists t (k blob primary key, v text not null)")
        self.identity = json.dumps(identity, sort_keys=True)
        self.hits = self.misses = 0

    def _key(self, text, src, tgt, decoding, n, seed) -> bytes:
        d = decoding.model_dump()
        d.pop("batch_size", None)  # how rows are batched does not change a greedy/beam result
        d.pop("max_tokens", None)
        blob = json.dumps([self.identity, d, n, seed if decoding.sampling else None, src, tgt,
                           text], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).digest()

    def translate(self, texts, src, tgt, decoding, n=1, seed=0):
        keys = [self._key(t, src, tgt, decoding, n, seed) for t in texts]
        found: dict[bytes, list[str]] = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            q = f"select k, v from t where k in ({','.join('?' * len(part))})"
            for k, v in self.db.execute(q, part):
                found[k] = json.loads(v)
        miss = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(texts) - len(miss)
        self.misses += len(miss)
        if miss:
            todo = {}
            for i in miss:  # the same text twice in one batch: translate it once
                todo.setdefault(keys[i], texts[i])
            got = self.inner.translate(list(todo.values()), src, tgt, decoding, n, seed)
            rows = [(k, json.dumps(h, ensure_ascii=False)) for k, h in zip(todo, got)]
            with self.db:
                self.db.executemany("insert or replace into t (k, v) values (?, ?)", rows)
            found.update({k: h for k, h in zip(todo, got)})
        self.sentences_translated = self.inner.sentences_translated
        return [found[k] for k in keys]

    def check(self, src, tgt, decoding, n=1):
        self.inner.check(src, tgt, decoding, n)

    def logprob(self, sources, targets, src, tgt, batch_size=16):
        keys = [hashlib.sha256(json.dumps([self.identity, "logprob", src, tgt, s, t],
                                          ensure_ascii=False).encode("utf-8")).digest()
                for s, t in zip(sources, targets)]
        found = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            q = f"select k, v from t where k in ({','.join('?' * len(part))})"
            found.update({k: json.loads(v) for k, v in self.db.execute(q, part)})
        miss = [i for i, k in enumerate(keys) if k not in found]
        if miss:
            got = self.inner.logprob([sources[i] for i in miss], [targets[i] for i in miss], src,
                                     tgt, batch_size)
            if got is None:  # this backend cannot score
                return None
            with self.db:
                self.db.executemany("insert or replace into t (k, v) values (?, ?)",
                                    [(keys[i], json.dumps(v)) for i, v in zip(miss, got)])
            found.update({keys[i]: v for i, v in zip(miss, got)})
        self.sentences_scored = self.inner.sentences_scored
        return [found[k] for k in keys]

    def describe(self):
        return {**self.inner.describe(), "cache": str(self.path)}

"""Round-trip scoring: the fast chrF path gives sacrebleu's numbers; the pool gives the serial's."""

import random
from importlib import resources

import pytest
from sacrebleu.metrics import BLEU, CHRF

from translate_synth.config import ScoringConfig
from translate_synth.score import RoundTripScorer


def _real_pairs(n=600):
    """Real sentences in several scripts, each against a perturbed copy (a round-trip look-alike)
    and against an unrelated sentence."""
    data = resources.files("translate_synth") / "data"
    texts = [ln for ln in (data / "web.en.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip()][:300]
    for lang in ("am", "ne", "si", "yo", "zu"):  # Ethiopic, Devanagari, Sinhala, diacritics
        for ln in (data / f"udhr.en-{lang}.tsv").read_text(encoding="utf-8").splitlines()[1:40]:
            texts.append(ln.split("\t")[1])
    rng = random.Random(7)
    pairs = []
    for t in texts:
        w = t.split()
        cut = w[: max(1, len(w) - rng.randrange(3))]
        rng.shuffle(cut[: len(cut) // 3])
        pairs.append((" ".join(cut).upper() if rng.random() < 0.2 else " ".join(cut), t))
        pairs.append((t, rng.choice(texts)))
    pairs += [("", ""), ("a", ""), ("", "a"), ("  x  y ", "x y"), ("Hello, world!", "hello world")]
    return pairs[:n] + pairs[-5:]


@pytest.mark.parametrize("lowercase", [False, True])
def test_scores_equal_sacrebleu_sentence_scores(lowercase):
    pairs = _real_pairs()
    sc = RoundTripScorer(ScoringConfig(lowercase=lowercase), workers=1)
    got = sc.score_many([h for h, _ in pairs], [r for _, r in pairs])
    bleu = BLEU(effective_order=True, lowercase=lowercase)
    chrf = CHRF(lowercase=lowercase)
    for (h, r), g in zip(pairs, got):
        assert g["rt_bleu"] == bleu.sentence_score(h, [r]).score
        assert g["rt_chrf"] == pytest.approx(chrf.sentence_score(h, [r]).score, abs=1e-9)
    assert sc.signatures()["rt_chrf"] == chrf.get_signature().format()


def test_fast_chrf_is_used_by_default_and_chrf_plus_plus_falls_back():
    pytest.importorskip("fastchrf")
    assert RoundTripScorer(ScoringConfig(), workers=1).chrf_engine == "fastchrf"
    sc = RoundTripScorer(ScoringConfig(chrf_word_order=2), workers=1)
    assert sc.chrf_engine == "sacrebleu"
    h, r = "the cat sat on the mat", "a cat was sitting on the mat"
    assert sc.score(h, r)["rt_chrf"] == CHRF(word_order=2).sentence_score(h, [r]).score


def test_pool_gives_the_serial_scores():
    pairs = _real_pairs(400)
    hyps, refs = [h for h, _ in pairs], [r for _, r in pairs]
    serial = RoundTripScorer(ScoringConfig(), workers=1).score_many(hyps, refs)
    pooled = RoundTripScorer(ScoringConfig(), workers=2)
    try:
        assert pooled.score_many(hyps, refs) == serial
    finally:
        pooled.close()


def test_nothing_to_score_is_an_empty_list():
    for workers in (1, 2):
        sc = RoundTripScorer(ScoringConfig(), workers=workers)
        assert sc.score_many([], []) == []
        sc.close()

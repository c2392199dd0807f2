"""Language codes per model family.

Each model family names languages its own way: NLLB-200 uses FLORES-200 codes (``swh_Latn``),
M2M100 ISO 639-1 (``sw``), mBART-50 locale-like codes (``sw_KE``), MADLAD-400/T5 a ``<2sw>``
prefix built from ISO 639-1, multi-target opus-mt (Marian) models a ``>>swh<<`` token with
ISO 639-3. ``None`` means the family does not cover the language. A language config may add or
override codes under ``codes:`` (its own language) and ``source_codes:`` (the source language).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from translate_synth.errors import UserError

FAMILIES = ("nllb", "m2m100", "mbart50", "madlad", "marian")


@dataclass(frozen=True)
class Language:
    code: str  # the tool's own code: ISO 639-1 where one exists, else ISO 639-3
    name: str
    script: str  # ISO 15924, for the script filter
    codes: dict = field(default_factory=dict)  # family -> code or None


def _lang(code, name, script, nllb, m2m100, mbart50, madlad, marian):
    return Language(code, name, script, dict(nllb=nllb, m2m100=m2m100, mbart50=mbart50,
                                               madlad=madlad, marian=marian))


BUILTIN: dict[str, Language] = {
    lang.code: lang
    for lang in [
        # high-resource source / pivot languages
        _lang("en", "English", "Latn", "eng_Latn", "en", "en_XX", "en", "eng"),
        _lang("fr", "French", "Latn", "fra_Latn", "fr", "fr_XX", "fr", "fra"),
        _lang("es", "Spanish", "Latn", "spa_Latn", "es", "es_XX", "es", "spa"),
        _lang("de", "German", "Latn", "deu_Latn", "de", "de_DE", "de", "deu"),
        _lang("pt", "Portuguese", "Latn", "por_Latn", "pt", "pt_XX", "pt", "por"),
        _lang("ar", "Arabic", "Arab", "arb_Arab", "ar", "ar_AR", "ar", "ara"),
        # low-resource targets shipped in lang_configs/
        _lang("sw", "Swahili", "Latn", "swh_Latn", "sw", "sw_KE", "sw", "swh"),
        _lang("yo", "Yoruba", "Latn", "yor_Latn", "yo", None, "yo", "yor"),
        _lang("ha", "Hausa", "Latn", "hau_Latn", "ha", None, "ha", "hau"),
        _lang("ig", "Igbo", "Latn", "ibo_Latn", "ig", None, "ig", "ibo"),
        _lang("zu", "Zulu", "Latn", "zul_Latn", "zu", None, "zu", "zul"),
        _lang("xh", "Xhosa", "Latn", "xho_Latn", "xh", "xh_ZA", "xh", "xho"),
        _lang("rw", "Kinyarwanda", "Latn", "kin_Latn", None, None, "rw", "kin"),
        _lang("am", "Amharic", "Ethi", "amh_Ethi", "am", None, "am", "amh"),
        _lang("so", "Somali", "Latn", "som_Latn", "so", None, "so", "som"),
        _lang("ne", "Nepali", "Deva", "npi_Deva", "ne", "ne_NP", "ne", "npi"),
        _lang("si", "Sinhala", "Sinh", "sin_Sinh", "si", "si_LK", "si", "sin"),
        _lang("qu", "Quechua (Ayacucho)", "Latn", "quy_Latn", None, None, "qu", "quy"),
        _lang("lg", "Ganda", "Latn", "lug_Latn", "lg", None, "lg", "lug"),
        _lang("ln", "Lingala", "Latn", "lin_Latn", "ln", None, "ln", "lin"),
        _lang("wo", "Wolof", "Latn", "wol_Latn", "wo", None, "wo", "wol"),
        _lang("tl", "Tagalog", "Latn", "tgl_Latn", "tl", "tl_XX", "tl", "tgl"),
    ]
}


def family_code(lang: str, family: str, overrides: dict | None = None) -> str:
    """The code ``family`` uses for ``lang``; a clear error when the family lacks the language."""
    overrides = overrides or {}
    if family in overrides:
        code = overrides[family]
    elif lang in BUILTIN:
        code = BUILTIN[lang].codes.get(family)
    else:
        raise UserError(
            f"unknown language '{lang}' for model family {family}: add `codes: {{{family}: CODE}}` "
            f"to its config (known: {', '.join(sorted(BUILTIN))})"
        )
    if not code:
        raise UserError(
            f"the {family} model family does not support language '{lang}': choose another model "
            f"(e.g. model.id=facebook/nllb-200-distilled-600M) or set codes.{family} in its config"
        )
    return code


def script_of(lang: str) -> str | None:
    return BUILTIN[lang].script if lang in BUILTIN else None


def name_of(lang: str) -> str:
    return BUILTIN[lang].name if lang in BUILTIN else lang


# other ISO 639 codes people write for a built-in language (macrolanguage and ISO 639-2/B codes);
# each family's own code (``por``, ``por_Latn``, ``pt_XX``...) and the English name count too
EXTRA_ALIASES = {"swa": "sw", "ara": "ar", "nep": "ne", "que": "qu", "fre": "fr", "ger": "de",
                 "sin": "si", "kin": "rw"}


def _aliases() -> dict[str, str]:
    out = {}
    for lang in BUILTIN.values():
        for alias in (lang.code, lang.name, lang.name.split(" (")[0],
                      *(c for c in lang.codes.values() if c)):
            out.setdefault(alias.lower(), lang.code)
    for alias, code in EXTRA_ALIASES.items():
        if code in BUILTIN:
            out.setdefault(alias, code)
    return out


def canonical(code: str) -> str | None:
    """The tool's code for ``code`` when it names a built-in language another way (``PT``,
    ``por``, ``por_Latn``, ``pt_XX``, ``Portuguese`` -> ``pt``); None when it names none."""
    return _aliases().get(str(code).strip().lower())


def alias_message(code: str) -> str | None:
    """'por' is Portuguese, ...: the one line that says which code to write instead, or None
    when ``code`` is the tool's own code or no built-in language's."""
    want = canonical(code)
    if want is None or want == code:
        return None
    return (f"'{code}' is {BUILTIN[want].name}: its code here is '{want}' (ISO 639-1 where one "
            f"exists, as `translate-synth langs` lists); did you mean '{want}'?")

"""Pinyin keys for searching Chinese names: full (``zhangsan``) and initials (``zs``)."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def name_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials), lowercase, without tones or separators. Non-Chinese characters
    are kept as they are (lowercased), so ``Anna`` is found as ``anna``."""
    syllables = [s.lower() for s in lazy_pinyin(name, style=Style.NORMAL, errors="default")]
    syllables = [s for s in syllables if s.strip()]
    return "".join(syllables), "".join(s[0] for s in syllables if s)

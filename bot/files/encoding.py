"""Which legacy code page a non-UTF-8 text file is in: a guess, and how sure it is (pure).

Detectors rank every code page they know, and on a short CSV many of them decode the bytes
without a fault: a French cp1252 export also decodes as cp1250 (``Unità`` becomes ``Unitŕ``)
and one ``©`` byte decodes as cp932 katakana. Files people share come from a short list of
export code pages (Windows' own, plus the ISO and Mac pages older systems wrote), so the
detector only chooses among those, ties go to the page that exports use most, and when
another page reads the bytes about as well but differently the guess says so.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Export code pages, commonest first (ties go to the earlier); the label names the script.
_EXPORT_CODE_PAGES: tuple[tuple[str, str], ...] = (
    ("cp1252", "Western European"),
    ("cp949", "Korean"),
    ("cp1250", "Central European"),
    ("cp1251", "Cyrillic"),
    ("cp932", "Japanese"),
    ("gb18030", "Chinese (simplified)"),
    ("big5", "Chinese (traditional)"),
    ("cp1253", "Greek"),
    ("iso8859_7", "Greek"),
    ("cp1254", "Turkish"),
    ("cp1257", "Baltic"),
    ("cp1255", "Hebrew"),
    ("cp1256", "Arabic"),
    ("cp874", "Thai"),
    ("cp1258", "Vietnamese"),
    ("koi8_r", "Cyrillic"),
    ("euc_jp", "Japanese"),
    ("mac_cyrillic", "Cyrillic"),
    ("mac_roman", "Western European"),
)
_RANK = {codecs.lookup(name).name: rank for rank, (name, _) in enumerate(_EXPORT_CODE_PAGES)}
_LABEL = {codecs.lookup(name).name: label for name, label in _EXPORT_CODE_PAGES}
# Symbols that stick to letters in real text ("25°C", "Brand™"), unlike a misread letter.
_USUAL_SYMBOLS = frozenset("°™®©§µ·'")
# Letters that Western European readings of Turkish and Central European bytes produce
# ("Þehir" for "Şehir", "Unitŕ" for "Unità"), while the languages they belong to (Icelandic,
# Slovak) rarely reach our users' exports.
_RARE_LETTERS = frozenset("ÞþÐðÝýŸŔŕĹĺ")
# Readings this close in chaos (odd characters) compete; among them, coherence (how much the
# text reads like a language) within _TIE is a tie, and within _RIVAL_MARGIN a rival.
_CHAOS_MARGIN = 0.02
_TIE = 0.05
_RIVAL_MARGIN = 0.1
_MAX_RIVALS = 2


@dataclass(frozen=True)
class EncodingGuess:
    """A code page guessed from the bytes; ``rivals`` also decode them, into other text."""

    encoding: str  # a Python codec name
    label: str  # the script or region, e.g. "Western European"
    rivals: tuple[str, ...] = ()

    @property
    def certain(self) -> bool:
        return not self.rivals


@dataclass(frozen=True)
class _Reading:
    encodings: tuple[str, ...]  # code pages that all give this same text
    chaos: float
    coherence: float
    oddities: int

    @property
    def best(self) -> str:
        return min(self.encodings, key=_RANK.__getitem__)


def label_of(encoding: str) -> str:
    """The script a code page is for, e.g. ``cp1252`` -> "Western European"."""
    return _LABEL.get(codecs.lookup(encoding).name, encoding)


def guess_export_code_page(probe: bytes) -> EncodingGuess | None:
    """The export code page ``probe`` (whole lines of a file's head) is most likely in.

    None when no export code page decodes it.
    """
    from charset_normalizer import from_bytes  # slow to import; rarely needed

    matches = from_bytes(probe, cp_isolation=[name for name, _ in _EXPORT_CODE_PAGES])
    readings = []
    for match in matches:
        ours = tuple(
            name
            for name in (codecs.lookup(e).name for e in match.could_be_from_charset)
            if name in _RANK
        )
        if ours:
            readings.append(
                _Reading(
                    ours,
                    chaos=match.chaos,
                    coherence=match.coherence,
                    oddities=_oddities(str(match)),
                )
            )
    if not readings:
        return None
    least_chaos = min(r.chaos for r in readings)
    near = [r for r in readings if r.chaos <= least_chaos + _CHAOS_MARGIN]
    most_coherent = max(r.coherence for r in near)
    best = [r for r in near if r.coherence >= most_coherent - _TIE]
    chosen = min(best, key=lambda r: (r.oddities, _RANK[r.best]))
    others = sorted(
        (r for r in near if r is not chosen and r.coherence >= most_coherent - _RIVAL_MARGIN),
        key=lambda r: _RANK[r.best],
    )
    rivals = tuple(r.best for r in others[:_MAX_RIVALS])
    return EncodingGuess(encoding=chosen.best, label=_LABEL[chosen.best], rivals=rivals)


def _oddities(text: str) -> int:
    """Signs of misread letters: non-ASCII symbols stuck to a letter ("£ódŸ" for "Łódź"),
    and rare letters."""
    count = 0
    for i, ch in enumerate(text):
        if ch in _RARE_LETTERS:
            count += 1
            continue
        if ch.isascii() or ch.isalnum() or ch.isspace() or ch in _USUAL_SYMBOLS:
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if before.isalpha() or after.isalpha():
            count += 1
    return count

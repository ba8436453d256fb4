"""Files shipped with insightbot that engines hand to their sandboxes.

``HANGUL_FONT`` is NanumGothic (SIL OFL 1.1, see NanumGothic-OFL.txt): one file for the local
kernel's matplotlib default and for uploads to OpenAI containers, so Korean text in charts never
renders as empty boxes. It is kept in the project rather than taken from a package so that both
engines find it without the ``local`` extra installed, and because the PyPI package that bundles
it (koreanize-matplotlib) ships the font without its OFL text under an MIT label.
"""

from __future__ import annotations

from pathlib import Path

HANGUL_FONT: Path = Path(__file__).parent / "NanumGothic.ttf"
HANGUL_FONT_FAMILY = "NanumGothic"

__all__ = ["HANGUL_FONT", "HANGUL_FONT_FAMILY"]

"""What a text file (CSV, TSV, TXT, JSON) holds: its encoding, delimiter and oddities.

Works on the file's head (its first bytes, see ``bot.files.HEAD_BYTES``). UTF-8, a byte order
mark, UTF-16 and Korean cp949 are recognised for sure; other legacy code pages are guessed
(``bot.files.encoding``) and told as guesses, with the rival readings when there are any.
Raises ``FileUnreadable`` for binary data under a text name and for text with no data.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot import messages
from bot.errors import FileUnreadable
from bot.files.encoding import guess_export_code_page
from bot.files.shape import delimiter_and_shape, lines_of
from bot.types import FileFacts

__all__ = ["Head", "binary_refusal", "text_facts"]

TEXT_MIME = {"csv": "text/csv", "txt": "text/plain", "json": "application/json"}
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Only used to say what a binary file really is (the catalogue words each kind:
# ``messages.binary_not_text``); binary-ness itself is decided by byte counts.
_MAGIC_KINDS = (
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"%PDF", "pdf"),
    (_ZIP, "zip"),
    (_OLE2, "ole2"),
    (b"PAR1", "parquet"),
    (b"\x1f\x8b", "gzip"),
    (b"\x00\x05\x16\x07", "resource_fork"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters that do not occur in text. Tab, line feed, vertical tab, form feed,
# carriage return and escape do (a vertical tab is Excel's line break inside a cell).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_STRAY_CONTROLS = 2  # a couple of stray bytes in a tiny file do not make it binary
_HANGUL = re.compile("[\uac00-\ud7a3]")
_FIRST_CHAR = re.compile(r"\S")
_PROBE = 65536


@dataclass(frozen=True)
class Head:
    """The first bytes of a file, as much as inspection reads."""

    path: Path
    name: str  # the name shown in messages (``safe_display_name``)
    data: bytes
    size: int

    @property
    def complete(self) -> bool:
        return len(self.data) >= self.size


def text_facts(head: Head, *, kind: str, file_name: str, lines: bool = False) -> FileFacts:
    """Facts of a text kind (csv, tsv, txt, json); ``lines`` marks a .jsonl/.ndjson name.

    ``mime_type`` is the kind's own; the caller changes it when the file travels zipped.
    """
    encoding, text, notes = _decoded(head, file_name=file_name)
    if not text.strip():
        raise FileUnreadable(partial(messages.file_blank, name=head.name), file_name=file_name)
    if kind == "json":
        notes.extend(_json_notes(head, text, lines=lines, file_name=file_name))
        return FileFacts(
            kind="json", mime_type=TEXT_MIME["json"], encoding=encoding, note=_join(notes)
        )
    delimiter, shape = delimiter_and_shape(text, kind=kind, complete=head.complete)
    if shape:
        notes.append(shape)
    return FileFacts(
        kind=kind,
        mime_type=TEXT_MIME.get(kind, "application/zip"),
        encoding=encoding,
        delimiter=delimiter,
        note=_join(notes),
    )


def _join(notes: list[str]) -> str | None:
    return "; ".join(n for n in notes if n) or None


# ---------------------------------------------------------------- JSON


def _json_notes(head: Head, text: str, *, lines: bool, file_name: str) -> list[str]:
    if (first := _FIRST_CHAR.search(text)) is None or first.group() not in "{[":
        raise FileUnreadable(partial(messages.not_json, name=head.name), file_name=file_name)
    records = [x.strip() for x in lines_of(text, 0, len(text), limit=20) if x.strip()]
    # One object per line; the second may be the broken one.
    looks_like_lines = (
        len(records) >= 2
        and records[0][0] == "{"
        and records[0][-1] == "}"
        and records[1][0] == "{"
    )
    if lines or looks_like_lines:
        return ["JSON Lines (read with lines=True)", *_json_lines_problem(text, head.complete)]
    if not head.complete:
        return []  # the rest of the document is not here to check
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return [
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}; "
            "pd.read_json and json.load will fail: read it as text to see the broken part"
        ]
    return []


def _json_lines_problem(text: str, complete: bool) -> list[str]:
    all_lines = list(lines_of(text, 0, len(text)))
    if not complete and all_lines:
        all_lines.pop()  # cut mid-line by the head
    for number, line in enumerate(all_lines, start=1):
        if not line.strip():
            continue
        try:
            json.loads(line)
        except json.JSONDecodeError as error:
            return [
                f"line {number} is not valid JSON ({error.msg}); "
                "pd.read_json(lines=True) will fail there"
            ]
    return []


# ---------------------------------------------------------------- encodings


def _decoded(head: Head, *, file_name: str) -> tuple[str, str, list[str]]:
    """(encoding as a Python codec name, the decoded head, notes on how sure that is)."""
    data, final = head.data, head.complete
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    encoding = encoding or _utf16_without_bom(data)
    notes: list[str] = []
    if encoding is None:
        probe = data[:_PROBE]
        controls = len(probe) - len(probe.translate(None, _CONTROL_BYTES))
        if controls > _STRAY_CONTROLS and controls * 100 > len(probe):
            raise binary_refusal(head, file_name=file_name)
        for errors in ("strict", "replace"):
            for candidate in ("utf-8", "cp949"):
                try:
                    text = _decode(data, candidate, final=final, errors=errors)
                except UnicodeDecodeError:
                    continue
                if _fits(text, korean=candidate == "cp949"):
                    if errors != "strict":
                        notes.append(_replaced_note(candidate))
                    notes.extend(_nul_note(data))
                    return candidate, _checked_text(head, text, file_name=file_name), notes
        encoding, notes = _guessed(data, final=final)
        if encoding is None:
            raise binary_refusal(head, file_name=file_name)
    try:
        text = _decode(data, encoding, final=final)
    except UnicodeDecodeError:
        text = _decode(data, encoding, final=final, errors="replace")
        notes.append(_replaced_note(encoding))
    return encoding, _checked_text(head, text, file_name=file_name), notes


def _decode(data: bytes, encoding: str, *, final: bool, errors: str = "strict") -> str:
    # Incremental: a head cut inside a multibyte character leaves the tail pending, not an error.
    return codecs.getincrementaldecoder(encoding)(errors).decode(data, final)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a byte order mark: mostly-ASCII text then has a NUL in every other
    byte; Hangul has fewer. Text that is plain UTF-8 once a few NULs are dropped is not
    UTF-16 (an ASCII CSV with one stray NUL would otherwise read as CJK ideographs)."""
    probe = data[: 4096 & ~1]
    half = len(probe) // 2
    if half < 4:
        return None
    even, odd = probe[0::2].count(0), probe[1::2].count(0)
    nuls = max(even, odd)
    if nuls < half * 0.9:
        try:
            probe.replace(b"\x00", b"").decode("utf-8")
            return None
        except UnicodeDecodeError:
            pass
    if odd >= half * 0.15 and even <= half * 0.02:
        return "utf-16-le"
    if even >= half * 0.15 and odd <= half * 0.02:
        return "utf-16-be"
    return None


def _fits(text: str, *, korean: bool) -> bool:
    """Whether ``text`` (decoded leniently or not) reads as real text in that encoding.

    A few undecodable bytes in otherwise valid text (a damaged or concatenated file) still
    fit; text that is mostly replacement characters was another encoding. cp949 also decodes
    some Western single-byte text into rare Hangul syllables, so for it the text must contain
    Hangul and sit almost wholly in the KS X 1001 (EUC-KR) repertoire, as real Korean does.
    """
    probe = text[:_PROBE]
    wide = "".join(ch for ch in probe if ord(ch) > 127)
    bad = wide.count("\ufffd")
    if bad and bad * 20 > len(wide) - bad:
        return False
    if not korean:
        return True
    if not _HANGUL.search(text):
        return False
    unmapped = wide.replace("\ufffd", "").encode("euc_kr", errors="replace").count(b"?")
    return unmapped * 5 <= len(wide) - bad


def _replaced_note(encoding: str) -> str:
    return f"some bytes are not valid {encoding} (read with encoding_errors='replace')"


def _nul_note(data: bytes) -> list[str]:
    count = data.count(0)
    if not count:
        return []
    return [f"{count} stray NUL byte{'s' if count > 1 else ''} in the text (a damaged export)"]


def _guessed(data: bytes, *, final: bool) -> tuple[str | None, list[str]]:
    probe = data[:_PROBE]
    if not final or len(probe) < len(data):
        probe = probe[: probe.rfind(b"\n") + 1] or probe
    guess = guess_export_code_page(probe)
    if guess is None:
        return None, []
    if guess.certain:
        return guess.encoding, [
            f"the encoding {guess.encoding} ({guess.label}) is guessed from the bytes"
        ]
    others = " or ".join(guess.rivals)
    verb = "decodes" if len(guess.rivals) == 1 else "decode"
    return guess.encoding, [
        f"the encoding is uncertain: {guess.encoding} ({guess.label}) fits best, but {others} "
        f"also {verb} it, into different letters; look at the non-ASCII text after reading, "
        "and if letters look wrong read it again with that encoding instead"
    ]


def _checked_text(head: Head, text: str, *, file_name: str) -> str:
    probe = text[:_PROBE]
    controls = len(_CONTROL_CHARS.findall(probe))
    if controls > _STRAY_CONTROLS and controls * 100 > len(probe):
        raise binary_refusal(head, file_name=file_name)
    return text


def binary_refusal(head: Head, *, file_name: str) -> FileUnreadable:
    kind = next((k for magic, k in _MAGIC_KINDS if head.data.startswith(magic)), None)
    return FileUnreadable(
        partial(messages.binary_not_text, name=head.name, looks_like=kind), file_name=file_name
    )

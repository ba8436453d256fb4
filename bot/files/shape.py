"""The shape of delimited text: which delimiter, and whether rows are ragged (pure).

Field counts respect quotes (the csv reader) where a field is quoted, and count delimiters
per line otherwise, which is several times faster on the 1 MB head we look at. Columns lined
up with runs of spaces are told as such (``sep=r"\\s+"``); prose in a .txt has no delimiter,
however many commas its sentences hold.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_SEP_LINE = re.compile(r"sep=([^\r\n])\r?\n")  # Excel's hint line, e.g. "sep=;"
_DELIMITERS = (",", ";", "\t", "|")
WHITESPACE = r"\s+"  # the delimiter of columns lined up with spaces, as pandas takes it
_SENTENCE_END = re.compile(r"[.!?。！？][\"')\]]*\s*$")
_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")
_CHOOSE_RECORDS = 200
_SHAPE_RECORDS = 200_000  # more than a head of 1 MB holds: ragged rows anywhere in it are told


def lines_of(text: str, start: int, end: int, *, limit: int | None = None) -> Iterator[str]:
    """Lines with their endings (\\n, \\r\\n or \\r), without copying the text."""
    for count, match in enumerate(_LINE.finditer(text, start, end)):
        if limit is not None and count >= limit:
            return
        yield match.group()


def _field_counts(text: str, *, start: int, end: int, delimiter: str, limit: int) -> list[int]:
    if text.find('"', start, end) < 0:
        return _unquoted_field_counts(text, start=start, end=end, delimiter=delimiter, limit=limit)
    counts: list[int] = []
    try:
        for row in csv.reader(lines_of(text, start, end), delimiter=delimiter, strict=False):
            if row:  # blank lines
                counts.append(len(row))
                if len(counts) >= limit:
                    break
    except csv.Error:  # e.g. an unbalanced quote swallowing the rest: judge what came before
        pass
    return counts


_WINDOW = 64 * 1024


def _unquoted_field_counts(
    text: str, *, start: int, end: int, delimiter: str, limit: int
) -> list[int]:
    """Field counts when no field is quoted: a delimiter count per line, taken window by
    window at line ends (several times faster than the csv reader, memory stays small)."""
    counts: list[int] = []
    pos = start
    while pos < end and len(counts) < limit:
        stop = min(end, pos + _WINDOW)
        if stop < end:
            cut = max(text.rfind("\n", pos, stop), text.rfind("\r", pos, stop))
            if cut >= pos:
                stop = cut + 1
                if text[cut] == "\r" and stop < end and text[stop] == "\n":
                    stop += 1
        for line in text[pos:stop].splitlines():
            if line:
                counts.append(line.count(delimiter) + 1)
        pos = stop
    return counts[:limit]


def _score(counts: list[int]) -> tuple[float, int]:
    """(agreement, fields): how many records share the commonest field count, plus a bonus
    when the header has it too; 0 when that count is below 2 (the delimiter is absent)."""
    if not counts:
        return 0.0, 0
    fields = max(counts, key=counts.count)
    if fields < 2:
        return 0.0, fields
    bonus = 0.2 if counts[0] == fields else 0.0
    return counts.count(fields) / len(counts) + bonus, fields


def delimiter_and_shape(text: str, *, kind: str, complete: bool) -> tuple[str | None, str | None]:
    """(the delimiter, a note on the shape) of a delimited text's head; (None, None) when
    it is not delimited (prose, one line of a .txt). ``WHITESPACE`` stands for runs of
    spaces or tabs."""
    # A head cut mid-file ends in a partial line: leave it out.
    end = len(text) if complete else (max(text.rfind("\n"), text.rfind("\r")) + 1 or len(text))
    sep_line = _SEP_LINE.match(text)
    start = sep_line.end() if sep_line else 0
    scores = {
        d: _score(_field_counts(text, start=start, end=end, delimiter=d, limit=_CHOOSE_RECORDS))
        for d in _DELIMITERS
    }
    best = max(_DELIMITERS, key=lambda d: scores[d])  # ties: the earlier, commoner one
    chosen: str | None
    sample = list(lines_of(text, start, end, limit=_CHOOSE_RECORDS))
    if sep_line:
        chosen = sep_line.group(1)
    elif kind == "txt" and _is_prose(sample):
        return None, None
    elif kind == "tsv":
        strongly_other = scores[best][0] >= 1.1 and best != "\t"
        chosen = best if strongly_other and scores["\t"][0] == 0 else "\t"
    elif scores[best][0] >= 1.0 or (kind == "csv" and scores[best][0] > 0):
        chosen = best
    elif _lined_up_with_spaces(sample):
        notes = ["columns are separated by runs of spaces, not by a delimiter"]
        notes.extend(_no_header(sample, delimiter=None))
        return WHITESPACE, "; ".join(notes)
    else:
        chosen = "," if kind == "csv" else None
    if chosen is None or (kind == "txt" and len([x for x in sample if x.strip()]) < 2):
        return None, None
    notes = ["the first line is Excel's 'sep=' hint (skip it: skiprows=1)"] if sep_line else []
    counts = _field_counts(text, start=start, end=end, delimiter=chosen, limit=_SHAPE_RECORDS)
    notes.extend(_shape_notes(counts, complete=complete))
    if not any("header=None" in note for note in notes):
        notes.extend(_no_header(sample, delimiter=chosen))
    return chosen, "; ".join(notes) or None


def _no_header(lines: list[str], *, delimiter: str | None) -> list[str]:
    """A note when the first record is all numbers: data, not column names."""
    first = next((line for line in lines if line.strip()), "")
    if delimiter is None:
        cells = first.split()
    else:
        cells = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter), [])
    if not cells or not all(_NUMBER.fullmatch(cell.strip()) for cell in cells):
        return []
    return [
        "the first line holds numbers, not column names: there is no header row "
        "(read with header=None)"
    ]


def _shape_notes(counts: list[int], *, complete: bool) -> list[str]:
    header, rows = (counts[0], counts[1:]) if counts else (0, [])
    odd = [number for number, fields in enumerate(rows, start=1) if fields != header]
    if not odd:
        return []
    if len(odd) == len(rows) >= 2 and len(set(rows)) == 1:
        # e.g. scikit-learn's "569,30,malignant,benign" above 31 columns of numbers
        return [
            f"the first line has {header} fields but every row under it has {rows[0]}: it is "
            "not the column header (read with skiprows=1, header=None)"
        ]
    sampled = "sampled " if not complete or len(counts) >= _SHAPE_RECORDS else ""
    return [
        f"ragged: {len(odd)} of {len(rows)} {sampled}rows have a different number of "
        f"fields than the header's {header} (first at data row {odd[0]})"
    ]


def _is_prose(lines: list[str]) -> bool:
    """Sentences, not records: most lines end a sentence and hold many words."""
    texts = [line.strip() for line in lines if line.strip()]
    if not texts:
        return False
    sentences = sum(1 for t in texts if _SENTENCE_END.search(t) and len(t.split()) >= 6)
    return sentences * 2 > len(texts)


def _lined_up_with_spaces(lines: list[str]) -> bool:
    """Every line splits on runs of spaces into the same number (2 or more) of fields, and
    the rows under the first line are mostly numbers (so that "full name" columns with a
    space in each value are not taken for two columns)."""
    rows = [line.split() for line in lines if line.strip()]
    if len(rows) < 2 or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        return False
    cells = [cell for row in rows[1:] for cell in row]
    numbers = sum(1 for cell in cells if _NUMBER.fullmatch(cell))
    return numbers * 2 > len(cells)

"""The sheets of a workbook: names, sizes and header rows, read without loading the workbook.

An .xlsx or .ods file is a zip of XML parts. openpyxl's read-only mode streams rows but loads
the whole shared-strings table and the stylesheet first, which for a large workbook is
hundreds of MB; here only the parts needed are streamed: the workbook's sheet list, each
sheet's first rows (parsed with the stdlib's ``ElementTree.iterparse``, each row dropped once
read), a scan of the remaining cell tags for the sheet's extent, and the shared strings up to
the last one a header uses. Memory stays flat whatever the size. Sheets of an .xlsx past
``SCAN_BYTES`` of XML in all are sized from their ``<dimension>`` record and told as "about".

Blocking disk I/O; ``SheetsUnreadable`` when the parts are missing or not well-formed XML.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

SCAN_BYTES = 256 * 1024 * 1024  # of sheet XML measured in full, over all sheets of a workbook
_HEADER_CELLS = 12
_HEADER_CANDIDATES = 5  # rows that may hold the header: blank-looking ones come first
_Row = tuple[int, list[tuple[str, str]]]
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class SheetsUnreadable(Exception):
    """The workbook's XML parts are missing or malformed."""


@dataclass
class SheetInfo:
    """One sheet: ``rows`` are the rows under the header (what pandas reads as data)."""

    name: str
    hidden: bool = False
    header_row: int | None = None  # 1-based; None when the sheet has no value at all
    header: list[str] = field(default_factory=list)
    last_row: int = 0
    columns: int = 0
    approximate: bool = False

    @property
    def empty(self) -> bool:
        return self.header_row is None

    @property
    def rows(self) -> int:
        return self.last_row - self.header_row if self.header_row else 0


def is_ods(archive: zipfile.ZipFile) -> bool:
    """Whether the zip is an OpenDocument spreadsheet (its ``mimetype`` member says so)."""
    try:
        return archive.read("mimetype").strip() == _ODS_MIME
    except KeyError:
        return False


def read_sheets(path: Path) -> list[SheetInfo]:
    """The sheets of the .xlsx or .ods workbook at ``path``, in workbook order.

    Raises SheetsUnreadable, zipfile.BadZipFile, OSError.
    """
    with zipfile.ZipFile(path) as archive:
        try:
            if is_ods(archive):
                return _ods_sheets(archive)
            return _xlsx_sheets(archive)
        except (KeyError, ParseError, ValueError) as error:
            raise SheetsUnreadable(str(error)) from error


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(elem: Element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (strict and transitional OOXML)."""
    for key, value in elem.attrib.items():
        if _local(key) == name:
            return value
    return None


# ---------------------------------------------------------------- xlsx


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", f"{name}.rels")
    targets = {}
    with archive.open(rels_path) as source:
        for _, elem in iterparse(source):
            if _local(elem.tag) == "Relationship":
                target = elem.get("Target", "")
                resolved = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(folder, target))
                )
                targets[elem.get("Id", "")] = resolved
                if (elem.get("Type") or "").endswith("/officeDocument"):
                    targets["officeDocument"] = resolved
    return targets


def _xlsx_sheets(archive: zipfile.ZipFile) -> list[SheetInfo]:
    workbook = _rels(archive, "").get("officeDocument", "xl/workbook.xml")
    targets = _rels(archive, workbook)
    listed: list[tuple[SheetInfo, str]] = []
    with archive.open(workbook) as source:
        for _, elem in iterparse(source):
            if _local(elem.tag) == "sheet":
                info = SheetInfo(
                    name=_attr(elem, "name") or "",
                    hidden=_attr(elem, "state") in ("hidden", "veryHidden"),
                )
                listed.append((info, targets.get(_attr(elem, "id") or "", "")))
    budget = SCAN_BYTES
    pending: list[tuple[SheetInfo, list[_Row]]] = []
    names = set(archive.namelist())
    for info, part in listed:
        if part not in names:
            continue  # a chart sheet or a dangling reference: no cells
        size = archive.getinfo(part).file_size
        whole = size <= budget
        budget -= size if whole else 0
        pending.append((info, _read_xlsx_sheet(archive, part, info, whole=whole)))
    strings = _shared_strings(archive, pending)
    for info, first_rows in pending:
        _choose_header(info, first_rows, strings)
    return [info for info, _ in listed]


def _choose_header(info: SheetInfo, first_rows: list[_Row], strings: dict[str, str]) -> None:
    """The header is the first row with a visible value: a row of empty strings above it
    looks blank in Excel, though pandas reads it (so it is skipped with skiprows)."""
    for row_number, cells in first_rows:
        values = [strings.get(v, "") if t == "s" else v for t, v in cells]
        if any(value.strip() for value in values):
            info.header_row, info.header = row_number, values
            return


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _read_xlsx_sheet(
    archive: zipfile.ZipFile, part: str, info: SheetInfo, *, whole: bool
) -> list[_Row]:
    """Fill ``info`` from one sheet; its first rows holding values (the header among them).

    The first rows are parsed as XML; the rest is only measured, by a scan of the cell tags
    (tens of times faster than parsing, for sheets of a few hundred thousand rows). A sheet
    not read ``whole`` is sized from its ``<dimension>`` when it has one.
    """
    with archive.open(part) as source:
        scan = _scan_xlsx_sheet(source, info, every_row=False)
    if scan.ended:
        return scan.first_rows
    if not whole and scan.dimension is not None:
        info.last_row, info.columns = scan.dimension
        info.approximate = True
        return scan.first_rows
    with archive.open(part) as source:
        extent = _cell_extent(source)
    if extent is None:  # cells without references: only parsing every row can place them
        with archive.open(part) as source:
            _scan_xlsx_sheet(source, info, every_row=True)
    else:
        info.last_row, info.columns = max(info.last_row, extent[0]), max(info.columns, extent[1])
    return scan.first_rows


@dataclass
class _Scan:
    first_rows: list[_Row] = field(default_factory=list)
    dimension: tuple[int, int] | None = None  # (last row, columns) the sheet declares
    ended: bool = True  # the whole sheet was parsed


def _scan_xlsx_sheet(source: IO[bytes], info: SheetInfo, *, every_row: bool) -> _Scan:
    """Parse the sheet's rows into ``info`` until its first rows with values are found (or
    to the end, with ``every_row``), dropping each row once counted: memory stays flat."""
    scan = _Scan()
    row_number = 0
    parent: Element | None = None
    for event, elem in iterparse(source, events=("start", "end")):
        tag = _local(elem.tag)
        if event == "start":
            if tag == "sheetData":
                parent = elem
            elif tag == "dimension":
                scan.dimension = _dimension(elem.get("ref", ""))
            continue
        if tag != "row":
            continue
        row_number = int(elem.get("r") or row_number + 1)
        cells = _xlsx_row_values(elem)
        if cells:
            if info.header_row is None:
                info.header_row = row_number
            if len(scan.first_rows) < _HEADER_CANDIDATES:
                scan.first_rows.append((row_number, [cell for _, cell in cells[:_HEADER_CELLS]]))
            info.last_row = max(info.last_row, row_number)
            info.columns = max(info.columns, cells[-1][0])
        if parent is not None:
            parent.clear()
        if not every_row and len(scan.first_rows) >= _HEADER_CANDIDATES:
            scan.ended = False
            break
    return scan


def _dimension(ref: str) -> tuple[int, int] | None:
    """(last row, columns) of a ``<dimension ref="A1:C100">``; None when it says nothing."""
    cells = _CELL_REF.findall(ref.upper())
    if len(cells) != 2:
        return None
    return int(cells[1][1]), _column_number(cells[1][0])


# Start tags of cells holding something: ``<c r="B7" t="s">``, not ``<c r="B7" s="3"/>`` nor
# ``<c r="B7"></c>``, which only carry formatting.
_VALUE_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*(?<!/)>(?!</)")
_VALUE_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*(?<!/)>(?!</)')
_SCAN_CHUNK = 1 << 18  # the cells found in a chunk are held at once


def _cell_extent(source: IO[bytes]) -> tuple[int, int] | None:
    """(last row, last column) of the cells holding something; None when such a cell has no
    ``r`` reference (a few writers leave it out). Rows come in order, so the last cell found
    is in the last row."""
    last_row = 0
    letters: set[bytes] = set()
    tail = b""
    while True:
        block = source.read(_SCAN_CHUNK)
        data = tail + block
        end = data.rfind(b">") + 1 if block else len(data)
        refs = _VALUE_CELL_REF.findall(data, 0, end)
        if len(refs) != len(_VALUE_CELL.findall(data, 0, end)):
            return None
        if refs:
            last_row = max(last_row, int(refs[-1][1]))
            letters.update(map(itemgetter(0), refs))
        tail = data[end:]
        if not block:
            columns = max((_column_number(x.decode()) for x in letters), default=0)
            return last_row, columns


def _xlsx_row_values(row: Element) -> list[tuple[int, tuple[str, str]]]:
    """(column number, (cell type, raw value)) for each cell of the row that holds a value."""
    values = []
    column = 0
    for cell in row:
        if _local(cell.tag) != "c":
            continue
        ref = _CELL_REF.match(cell.get("r") or "")
        column = _column_number(ref.group(1)) if ref else column + 1
        kind = cell.get("t", "n")
        raw = None
        for child in cell:
            name = _local(child.tag)
            if name == "v":
                raw = child.text or ""
            elif name == "is":
                kind, raw = (
                    "inlineStr",
                    "".join(t.text or "" for t in child.iter() if _local(t.tag) == "t"),
                )
        if raw is not None and (raw != "" or kind == "s"):
            values.append((column, (kind, raw)))
    return values


def _shared_strings(
    archive: zipfile.ZipFile, pending: list[tuple[SheetInfo, list[_Row]]]
) -> dict[str, str]:
    """Only the shared strings the header rows use, read up to the last of them."""
    wanted = {
        int(v)
        for _, first_rows in pending
        for _, cells in first_rows
        for t, v in cells
        if t == "s" and v.isdigit()
    }
    part = next((n for n in archive.namelist() if n.lower().endswith("sharedstrings.xml")), None)
    if not wanted or part is None:
        return {}
    found: dict[str, str] = {}
    index = 0
    with archive.open(part) as source:
        for _, elem in iterparse(source):
            if _local(elem.tag) != "si":
                continue
            if index in wanted:
                found[str(index)] = "".join(t.text or "" for t in _texts_outside_phonetics(elem))
            elem.clear()
            index += 1
            if index > max(wanted):
                break
    return found


def _texts_outside_phonetics(si: Element) -> Iterator[Element]:
    for child in si:
        name = _local(child.tag)
        if name == "t":
            yield child
        elif name == "r":
            yield from (t for t in child if _local(t.tag) == "t")


# ---------------------------------------------------------------- ods


def _ods_sheets(archive: zipfile.ZipFile) -> list[SheetInfo]:
    # One part holds every sheet; .ods files big enough for this to be slow are rare.
    sheets: list[SheetInfo] = []
    row_number = 0
    current: SheetInfo | None = None
    with archive.open("content.xml") as source:
        for event, elem in iterparse(source, events=("start", "end")):
            tag = elem.tag
            if event == "start":
                if tag == f"{{{_TABLE}}}table":
                    current = SheetInfo(name=elem.get(f"{{{_TABLE}}}name", ""))
                    sheets.append(current)
                    row_number = 0
                continue
            if tag == f"{{{_TABLE}}}table-row" and current is not None:
                repeat = int(elem.get(f"{{{_TABLE}}}number-rows-repeated", "1"))
                values = _ods_row_values(elem)
                if values:
                    if current.header_row is None:
                        current.header_row = row_number + 1
                        current.header = [v for _, v in values[:_HEADER_CELLS]]
                    current.last_row = row_number + repeat
                    current.columns = max(current.columns, values[-1][0])
                row_number += repeat
                elem.clear()
            elif tag == f"{{{_TABLE}}}table":
                elem.clear()
    return sheets


def _ods_row_values(row: Element) -> list[tuple[int, str]]:
    values = []
    column = 0
    for cell in row:
        if _local(cell.tag) not in ("table-cell", "covered-table-cell"):
            continue
        repeat = int(cell.get(f"{{{_TABLE}}}number-columns-repeated", "1"))
        text = "\n".join("".join(p.itertext()) for p in cell if _local(p.tag) == "p")
        typed = cell.get(f"{{{_OFFICE}}}value-type") is not None
        if text or typed:
            for offset in range(min(repeat, _HEADER_CELLS + 1)):
                values.append((column + offset + 1, text))
            if repeat > _HEADER_CELLS + 1:
                values.append((column + repeat, text))
        column += repeat
    return values


# ---------------------------------------------------------------- the model's note

_LISTED_SHEETS = 20
_SHOWN_HEADER = 8
_CELL_CHARS = 40


def sheets_note(sheets: list[SheetInfo]) -> str:
    """What the model is told about a workbook's sheets, e.g. ``sheets: 'Sales': 120 rows ×
    5 columns under the header in row 1 ['Date', 'Region', ...]; 'Notes': empty``.

    Sizes are what ``pd.read_excel(sheet_name=...)`` gives with the options told: rows under
    the header, columns up to the last one holding a value.
    """
    parts = [_sheet_part(sheet, first=i == 0) for i, sheet in enumerate(sheets[:_LISTED_SHEETS])]
    if len(sheets) > _LISTED_SHEETS:
        parts.append(f"and {len(sheets) - _LISTED_SHEETS} more sheets")
    note = f"{len(sheets)} sheet{'s' if len(sheets) != 1 else ''}: " + "; ".join(parts)
    if sheets and sheets[0].empty:
        note += (
            "; the first sheet is empty, and pd.read_excel reads the first sheet unless "
            "sheet_name says another"
        )
    return note


def _sheet_part(sheet: SheetInfo, *, first: bool) -> str:
    name = repr(_clean(sheet.name))
    hidden = " (hidden)" if sheet.hidden else ""
    if sheet.empty or sheet.header_row is None:
        return f"{name}{hidden}: empty"
    about = "about " if sheet.approximate else ""
    header = [_clean(cell)[:_CELL_CHARS] for cell in sheet.header[:_SHOWN_HEADER]]
    more = ", ..." if len(sheet.header) > _SHOWN_HEADER else ""
    shown = "[" + ", ".join(repr(cell) for cell in header) + more + "]"
    rows = f"{sheet.rows} row{'' if sheet.rows == 1 else 's'}"
    columns = f"{sheet.columns} column{'' if sheet.columns == 1 else 's'}"
    part = (
        f"{name}{hidden}: {about}{rows} × {columns} under the header in row "
        f"{sheet.header_row} {shown}"
    )
    options = [] if first else [f"sheet_name={name}"]
    if sheet.header_row > 1:
        # pandas takes the first row as the header even when it is blank.
        options.append(f"skiprows={sheet.header_row - 1}")
    if options:
        part += f" (read with {', '.join(options)})"
    return part


def _clean(text: str) -> str:
    """One line, no control characters: cell text goes into the model's instructions."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())

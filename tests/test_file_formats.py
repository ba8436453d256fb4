"""What the model is told about encodings, layouts, JSON, workbooks and compressed files.

Each test builds the kind of file people share and checks the line the model gets against
what pandas reads when it follows that line (see tests/test_file_corpus.py for real files).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from bot import messages
from bot.errors import FileTooLarge, FileUnreadable, UnsupportedFileType
from bot.files import inspect_file, model_note, sheets, upload_form_for
from bot.types import FileFacts


def put(tmp_path: Path, data: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- encodings

FRENCH = "Année,Région,Montant\n2021,Île-de-France,1200\n2022,Provence-Alpes-Côte d'Azur,950\n"
ITALIAN = "Anno;Unità;Città\n2021;3;Milano\n2022;5;Forlì\n"
GREEK = "Έτος,Άρθρο,Ποσό\n2021,Άλφα,1200\n2022,Θεσσαλονίκη,950\n"
POLISH = "Rok,Miasto\n2021,Łódź\n2022,Kraków\n"
TURKISH = "Yıl;Şehir;Tutar\n2021;İstanbul;1200\n2022;Eskişehir;950\n2023;Muğla;12\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (FRENCH, "cp1252"),
        (ITALIAN, "cp1252"),
        (GREEK, "iso-8859-7"),
        (POLISH, "cp1250"),
        ("Name;Straße;Größe\nMüller;Hauptstraße;1,80\n", "cp1252"),
        ("name,note\nx,© 2020\n", "latin-1"),
        ("Год,Город\n2021,Москва\n2022,Санкт-Петербург\n", "cp1251"),
    ],
)
def test_legacy_code_pages_read_back_the_letters_people_wrote(
    tmp_path: Path, text: str, encoding: str
) -> None:
    raw = text.encode(encoding)
    facts = inspect_file(put(tmp_path, raw, "export.csv"), name="export.csv")
    assert facts.encoding is not None
    assert raw.decode(facts.encoding) == text  # "Unità", not "Unitŕ"; "©", not "ｩ"
    # ... and the model hears it is a guess, never a fact.
    assert facts.note is not None
    assert "guessed from the bytes" in facts.note or "the encoding is uncertain" in facts.note


def test_an_uncertain_encoding_names_its_rivals(tmp_path: Path) -> None:
    raw = ITALIAN.encode("cp1252")
    facts = inspect_file(put(tmp_path, raw, "it.csv"), name="it.csv")
    assert facts.encoding == "cp1252"
    assert facts.note is not None
    assert facts.note.startswith("the encoding is uncertain: cp1252 (Western European) fits best")
    assert "cp1250" in facts.note  # the reading that gives "Unitŕ"


def test_turkish_is_not_flattened_into_western(tmp_path: Path) -> None:
    raw = TURKISH.encode("cp1254")
    facts = inspect_file(put(tmp_path, raw, "tr.csv"), name="tr.csv")
    assert facts.encoding is not None
    assert raw.decode(facts.encoding) == TURKISH


def test_ascii_with_a_stray_nul_is_not_utf16(tmp_path: Path) -> None:
    raw = b"a,b,c\n1,2,\x00\n"  # 12 bytes, once told to the model as UTF-16-BE
    facts = inspect_file(put(tmp_path, raw, "nul.csv"), name="nul.csv")
    assert (facts.encoding, facts.delimiter) == ("utf-8", ",")
    assert facts.note == "1 stray NUL byte in the text (a damaged export)"
    frame = pd.read_csv(io.BytesIO(raw), encoding=facts.encoding, sep=facts.delimiter)
    assert list(frame.columns) == ["a", "b", "c"]


def test_control_characters_inside_quoted_fields_are_text(tmp_path: Path) -> None:
    raw = b'"Name\x0bfull","Notes\x0cpage",Amount\n"Kim",x,1\n"Lee",y,2\n'
    facts = inspect_file(put(tmp_path, raw, "vt.csv"), name="vt.csv")
    assert (facts.encoding, facts.delimiter) == ("utf-8", ",")
    frame = pd.read_csv(io.BytesIO(raw), encoding=facts.encoding, sep=facts.delimiter)
    assert frame.shape == (2, 3)


# ---------------------------------------------------------------- layouts

SPACED = "Chins Situps Jumps\n5 162 60\n2 110 60\n12 101 101\n12  105 37\n"


def test_columns_lined_up_with_spaces_are_read_with_whitespace(tmp_path: Path) -> None:
    facts = inspect_file(put(tmp_path, SPACED.encode(), "linnerud.csv"), name="linnerud.csv")
    assert facts.delimiter == r"\s+"
    line = model_note("linnerud.csv", facts, wrapped=False, container_path=None)
    assert line.endswith("""(read with encoding='utf-8', sep=r"\\s+")""")
    frame = pd.read_csv(io.StringIO(SPACED), sep=facts.delimiter)
    assert frame.shape == (4, 3)


def test_names_with_spaces_stay_one_column(tmp_path: Path) -> None:
    text = "full name\nKim Chulsoo\nLee Younghee\n"
    facts = inspect_file(put(tmp_path, text.encode(), "names.csv"), name="names.csv")
    assert facts.delimiter == ","


@pytest.mark.parametrize(
    "text",
    [
        "Meeting notes, Monday. We talked about sales, costs, hiring, and next year's plan, "
        "which is ambitious.\n",
        "We met on Monday, as planned, to go over the results.\n"
        "Sales rose, costs fell, and hiring is on hold for now.\n"
        "The plan, in short, is to keep going as we are.\n",
    ],
)
def test_prose_has_no_delimiter(tmp_path: Path, text: str) -> None:
    facts = inspect_file(put(tmp_path, text.encode(), "notes.txt"), name="notes.txt")
    assert (facts.kind, facts.delimiter) == ("txt", None)
    assert "read with" not in model_note("notes.txt", facts, wrapped=False, container_path=None)


def test_a_first_line_that_is_not_the_header_is_told(tmp_path: Path) -> None:
    text = "3,4,yes,no\n" + "".join(
        f"{i},{i + 1},{i + 2},{i + 3},{i + 4},{i + 5}\n" for i in range(3)
    )
    facts = inspect_file(put(tmp_path, text.encode(), "meta.csv"), name="meta.csv")
    assert facts.note == (
        "the first line has 4 fields but every row under it has 6: it is not the column "
        "header (read with skiprows=1, header=None)"
    )
    frame = pd.read_csv(io.StringIO(text), sep=",", skiprows=1, header=None)
    assert frame.shape == (3, 6)


# ---------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    ("name", "data", "note"),
    [
        (
            "rows.json",
            b'[{"a": 1},\n {"a": 2,}\n]',
            "not valid JSON: Expecting property name enclosed in double quotes at line 2 "
            "column 10; pd.read_json and json.load will fail: read it as text to see the "
            "broken part",
        ),
        (
            "rows.json",
            b'{"a": 1}\n{"a": 2\n{"a": 3}\n',
            "JSON Lines (read with lines=True); line 2 is not valid JSON (Expecting ',' "
            "delimiter); pd.read_json(lines=True) will fail there",
        ),
        ("one.jsonl", b'{"a": 1}\n', "JSON Lines (read with lines=True)"),
        ("rows.ndjson", b'{"a": 1}\n{"a": 2}\n', "JSON Lines (read with lines=True)"),
    ],
)
def test_json_that_does_not_parse_is_told_where(
    tmp_path: Path, name: str, data: bytes, note: str
) -> None:
    facts = inspect_file(put(tmp_path, data, name), name=name)
    assert (facts.kind, facts.note) == ("json", note)


def test_json_lines_travel_under_a_name_the_sandbox_accepts(tmp_path: Path) -> None:
    path = put(tmp_path, b'{"a": 1}\n{"a": 2}\n', "events.jsonl")
    facts = inspect_file(path, name="events.jsonl")
    form = upload_form_for(path, name="events.jsonl", facts=facts, workdir=tmp_path / "w")
    assert (form.upload_name, form.wrapped) == ("events.jsonl.json", False)


# ---------------------------------------------------------------- workbooks


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Cover"  # empty, as many exported reports start
    data = book.create_sheet("매출 2024")
    data.append([])
    data.append(["Monthly report"])
    data.append(["월", "지역", "금액"])
    for month in range(1, 13):
        data.append([month, "서울", month * 100])
    secret = book.create_sheet("Lookup")
    secret.sheet_state = "hidden"
    secret.append(["code", "name"])
    secret.append([1, "one"])
    book.save(path)
    return path


def test_workbook_sheets_are_told_with_sizes_headers_and_how_to_read_them(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "report.xlsx")
    facts = inspect_file(path, name="report.xlsx")
    assert facts.kind == "xlsx"
    assert facts.note == (
        "3 sheets: 'Cover': empty; '매출 2024': 13 rows × 3 columns under the header in row 2 "
        "['Monthly report'] (read with sheet_name='매출 2024', skiprows=1); 'Lookup' (hidden): "
        "1 row × 2 columns under the header in row 1 ['code', 'name'] (read with "
        "sheet_name='Lookup'); the first sheet is empty, and pd.read_excel reads the first "
        "sheet unless sheet_name says another"
    )
    assert pd.read_excel(path, sheet_name="매출 2024", skiprows=1).shape == (13, 3)
    assert pd.read_excel(path, sheet_name="Lookup").shape == (1, 2)


def test_an_empty_workbook_is_refused_like_an_empty_csv(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(FileUnreadable) as caught:
        inspect_file(path, name="empty.xlsx")
    assert caught.value.user_message == messages.empty_workbook("en", "empty.xlsx")
    assert "모든 시트가 비어 있어요" in caught.value.text_for("ko")


def test_ods_is_read_with_the_odf_engine(tmp_path: Path) -> None:
    path = tmp_path / "budget.ods"
    with pd.ExcelWriter(path, engine="odf") as writer:
        pd.DataFrame({"item": ["a", "b"], "cost": [1, 2]}).to_excel(
            writer, sheet_name="Budget", index=False
        )
    facts = inspect_file(path, name="budget.ods")
    assert (facts.kind, facts.mime_type) == ("ods", "application/zip")
    assert facts.note is not None
    assert facts.note.startswith("an OpenDocument spreadsheet (read with engine='odf'")
    assert "'Budget': 2 rows × 2 columns under the header in row 1 ['item', 'cost']" in facts.note
    form = upload_form_for(path, name="budget.ods", facts=facts, workdir=tmp_path / "w")
    assert (form.upload_name, form.wrapped) == ("budget.ods.zip", True)


@pytest.fixture(scope="module")
def big_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("book") / "big.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(["id", "label", "value"])
    for i in range(60_000):
        sheet.append([i, f"unique label number {i}", i * 0.5])  # 60,000 shared strings
    book.save(path)
    return path


def test_a_big_workbook_is_read_without_loading_it(big_workbook: Path) -> None:
    tracemalloc.start()
    try:
        facts = inspect_file(big_workbook, name="big.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert facts.note == (
        "1 sheet: 'Data': 60000 rows × 3 columns under the header in row 1 ['id', 'label', 'value']"
    )
    assert peak < 8 * 1024 * 1024


def test_a_sheet_past_the_scan_budget_is_sized_from_its_dimension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dim.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for i in range(500):
        sheet.append([i, f"row {i}"])
    book.save(path)  # openpyxl records <dimension ref="A1:B500">
    monkeypatch.setattr(sheets, "SCAN_BYTES", 1024)
    facts = inspect_file(path, name="dim.xlsx")
    assert facts.note is not None
    assert "'Sheet': about 499 rows × 2 columns under the header in row 1" in facts.note


def test_a_sheet_without_a_dimension_is_counted_whatever_the_budget(
    big_workbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheets, "SCAN_BYTES", 1024)  # write-only workbooks record no size
    facts = inspect_file(big_workbook, name="big.xlsx")
    assert facts.note is not None
    assert "'Data': 60000 rows × 3 columns" in facts.note


# ---------------------------------------------------------------- compressed files

CSV = "날짜,지역,금액\n2024-01-01,서울,100\n2024-01-02,부산,200\n".encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("sales.csv.gz", gzip.compress(CSV)),
        ("sales.csv.bz2", bz2.compress(CSV)),
        ("sales.csv.xz", lzma.compress(CSV)),
        ("sales.zip", _zip({"2024/sales.csv": CSV})),
        ("sales.zip", _zip({"sales.csv": CSV, "__MACOSX/._sales.csv": b"\x00\x05\x16\x07"})),
    ],
)
def test_a_file_compressed_alone_travels_decompressed_in_a_zip(
    tmp_path: Path, name: str, data: bytes
) -> None:
    path = put(tmp_path, data, name)
    facts = inspect_file(path, name=name)
    assert (facts.kind, facts.mime_type, facts.encoding, facts.delimiter) == (
        "csv",
        "application/zip",
        "utf-8",
        ",",
    )
    form = upload_form_for(path, name=name, facts=facts, workdir=tmp_path / "w")
    assert (form.upload_name, form.mime_type, form.wrapped) == (
        "sales.csv.zip",
        "application/zip",
        True,
    )
    with zipfile.ZipFile(form.path) as archive:
        assert archive.namelist() == ["sales.csv"]
        assert archive.read("sales.csv") == CSV
    line = model_note(name, facts, wrapped=True, container_path="/mnt/data/x-sales.csv.zip")
    assert line.startswith(
        "sales.csv is inside the zip at /mnt/data/x-sales.csv.zip: unzip it first; csv, utf-8, "
        f"delimiter ',', decompressed from {name}"
    )
    assert path.read_bytes() == data


def test_a_compression_bomb_stops_at_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(b"a,b\n")
        for _ in range(64):
            f.write(b"0" * (1 << 20))  # 64 MiB of zeros in about 64 KiB
    tracemalloc.start()
    try:
        with pytest.raises(FileTooLarge) as caught:
            inspect_file(path, name="bomb.csv.gz", max_bytes=8 * 1024 * 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.user_message == messages.archive_too_large("en", "bomb.csv.gz", 8)
    assert peak < 8 * 1024 * 1024


def _encrypted_zip() -> bytes:
    data = bytearray(_zip({"secret.csv": CSV}))
    # Set the "encrypted" flag in the local and central headers, as a password tool does.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 0x1
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "data", "error", "message"),
    [
        (
            "two.zip",
            _zip({"a.csv": CSV, "b.csv": CSV}),
            FileUnreadable,
            messages.archive_holds_several("en", "two.zip", 2),
        ),
        ("none.zip", _zip({}), FileUnreadable, messages.archive_is_empty("en", "none.zip")),
        (
            "secret.zip",
            _encrypted_zip(),
            FileUnreadable,
            messages.archive_encrypted("en", "secret.zip"),
        ),
        (
            "cut.csv.gz",
            gzip.compress(CSV * 50)[:40],
            FileUnreadable,
            messages.archive_corrupt("en", "cut.csv.gz"),
        ),
        ("fake.csv.gz", CSV, FileUnreadable, messages.archive_corrupt("en", "fake.csv.gz")),
        (
            "report.pdf.gz",
            gzip.compress(b"%PDF-1.4"),
            UnsupportedFileType,
            messages.archive_inner_unsupported("en", "report.pdf.gz", "report.pdf").split(
                " (I read"
            )[0],
        ),
        (
            "backup.tar.gz",
            gzip.compress(b"x" * 1024),
            UnsupportedFileType,
            "holds *backup.tar*, which is not a file type I can read",
        ),
    ],
)
def test_unusable_archives_are_refused_saying_what_to_do(
    tmp_path: Path, name: str, data: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        inspect_file(put(tmp_path, data, name), name=name)
    assert message in caught.value.user_message  # type: ignore[attr-defined]


def test_other_formats_are_refused_with_what_to_do_in_the_askers_language(tmp_path: Path) -> None:
    path = put(tmp_path, b"PK\x03\x04", "slides.pptx")
    with pytest.raises(UnsupportedFileType) as caught:
        inspect_file(path, name="slides.pptx")
    assert "Export it as CSV or XLSX and share it again." in caught.value.user_message
    assert "CSV나 XLSX로 내보내서 다시 공유해 주세요." in caught.value.text_for("ko")


def test_parq_is_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    path = tmp_path / "t.parq"
    frame.to_parquet(path)
    facts = inspect_file(path, name="t.parq")
    assert facts == FileFacts(kind="parquet", mime_type="application/zip")

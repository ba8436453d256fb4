"""Why a file someone shared cannot be used: each entry names the file and says what to do.

These are the words of ``FileProblem`` errors (bot/errors.py): the raise site binds the
file's name, the turn picks the asker's language (``InsightbotError.text_for``).
"""

from __future__ import annotations

from bot.messages._lang import pick

_REDO = ("Please check the file and share it again.", "파일을 확인하고 다시 공유해 주세요.")


def _redo(lang: str) -> str:
    return pick(lang, *_REDO)


# ---------------------------------------------------------------- the file types


def supported_types(lang: str) -> str:
    """The file types the bot reads, for sentences that list them."""
    return pick(
        lang,
        "CSV, TSV, TXT, Excel (.xlsx, .xlsm, .xls), OpenDocument (.ods), JSON (.json, .jsonl, "
        ".ndjson), Parquet and images (PNG, JPG, GIF), also one of these compressed alone "
        "as .gz, .bz2, .xz or .zip",
        "CSV, TSV, TXT, Excel(.xlsx, .xlsm, .xls), OpenDocument(.ods), JSON(.json, .jsonl, "
        ".ndjson), Parquet, 이미지(PNG, JPG, GIF), 그리고 이 중 하나를 .gz, .bz2, .xz, .zip"
        "으로 따로 압축한 파일",
    )


def unsupported_file(lang: str, name: str) -> str:
    supported = supported_types(lang)
    return pick(
        lang,
        f"I can't analyse *{name}*: it is not a file type I can read (I read {supported}). "
        "Export it as CSV or XLSX and share it again.",
        f"*{name}* 파일은 읽을 수 없는 형식이에요 (읽을 수 있는 형식: {supported}). "
        "CSV나 XLSX로 내보내서 다시 공유해 주세요.",
    )


# ---------------------------------------------------------------- what the bytes say


def file_empty(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* is empty (0 bytes). {_redo(lang)}",
        f"*{name}* 파일이 비어 있어요 (0바이트). {_redo(lang)}",
    )


def file_blank(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* has no data in it, only blank space. {_redo(lang)}",
        f"*{name}* 파일에 데이터가 없고 공백뿐이에요. {_redo(lang)}",
    )


def file_cut_off(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* looks cut off: its end is missing, so the upload or download was "
        f"incomplete. {_redo(lang)}",
        f"*{name}* 파일의 끝부분이 없어요. 올리거나 내려받는 중에 잘린 것 같아요. {_redo(lang)}",
    )


def login_page_saved(lang: str, name: str) -> str:
    """A Slack login page arrived (and was saved) in place of the file."""
    return pick(
        lang,
        f"I couldn't download *{name}*: I received a Slack login page instead of the file. "
        "Make sure the app is in this channel (invite it) and that the file is shared here, "
        "then share it again.",
        f"*{name}* 파일을 내려받지 못했어요: 파일 대신 Slack 로그인 페이지가 왔어요. 앱이 이 "
        "채널에 초대되어 있고 파일이 여기에 공유되어 있는지 확인한 뒤 다시 공유해 주세요.",
    )


def html_table(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* is a web page (an HTML table) saved under a data file's name, not real CSV "
        "or Excel data. Open it in Excel, save it as .xlsx or CSV and share it again.",
        f"*{name}* 파일은 실제 CSV나 Excel 데이터가 아니라 데이터 파일 이름으로 저장된 웹 "
        "페이지(HTML 표)예요. Excel에서 열어 .xlsx나 CSV로 저장한 뒤 다시 공유해 주세요.",
    )


def not_json(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* is not JSON (it should start with {{ or [). Export the data as JSON or CSV "
        "and share it again.",
        f"*{name}* 파일은 JSON이 아니에요 ({{ 또는 [로 시작해야 해요). 데이터를 JSON이나 "
        "CSV로 내보내서 다시 공유해 주세요.",
    )


_BINARY_KINDS = {
    "png": ("a PNG image", "PNG 이미지"),
    "jpeg": ("a JPEG image", "JPEG 이미지"),
    "gif": ("a GIF image", "GIF 이미지"),
    "pdf": ("a PDF document", "PDF 문서"),
    "zip": ("a ZIP archive or an .xlsx workbook", "ZIP 압축 파일이나 .xlsx 통합 문서"),
    "ole2": (
        "an Excel 97-2003 workbook or another Office file",
        "Excel 97-2003 통합 문서나 다른 Office 파일",
    ),
    "parquet": ("a Parquet file", "Parquet 파일"),
    "gzip": ("a gzip archive", "gzip 압축 파일"),
    "resource_fork": (
        "a macOS resource fork (an '._' file a Mac adds beside the real one)",
        "macOS 리소스 포크 (Mac이 실제 파일 옆에 만드는 '._' 파일)",
    ),
}


def binary_not_text(lang: str, name: str, looks_like: str | None) -> str:
    """A binary file under a text name; ``looks_like`` is what its first bytes say it is
    (png, jpeg, gif, pdf, zip, ole2, parquet, gzip, resource_fork), None when unknown."""
    en_what, ko_what = _BINARY_KINDS.get(looks_like or "", (None, None))
    return pick(
        lang,
        f"*{name}* should be a text file, but "
        + (f"it looks like {en_what}" if en_what else "it contains binary data, not text")
        + ". Share the file under its real extension, or export the data as CSV and share it "
        "again.",
        f"*{name}* 파일은 텍스트 파일이어야 하는데 "
        + (f"{ko_what}로 보여요" if ko_what else "텍스트가 아닌 바이너리 데이터가 들어 있어요")
        + ". 실제 확장자로 공유하거나 데이터를 CSV로 내보내서 다시 공유해 주세요.",
    )


def not_an_image(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* is not a PNG, JPG or GIF image I can read. Save it as PNG or JPG and share "
        "it again.",
        f"*{name}* 파일은 읽을 수 있는 PNG, JPG, GIF 이미지가 아니에요. PNG나 JPG로 저장해서 "
        "다시 공유해 주세요.",
    )


def workbook_password(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* is protected by a password, so I can't open it. Remove the password (or "
        "save an unprotected copy) and share it again.",
        f"*{name}* 파일은 암호로 보호되어 있어 열 수 없어요. 암호를 없애거나 (또는 보호되지 "
        "않은 사본을 저장해서) 다시 공유해 주세요.",
    )


def file_corrupt(lang: str, name: str, kind: str) -> str:
    """A file that is not what its name says: ``kind`` is parquet or workbook."""
    en_what, ko_what = {
        "parquet": ("a valid Parquet file", "올바른 Parquet 파일이"),
    }.get(kind, ("a valid Excel workbook", "올바른 Excel 통합 문서가"))
    return pick(
        lang,
        f"*{name}* is not {en_what}: it may be damaged, protected (password or DRM), or "
        "another kind of file renamed. Open it in the program that made it, save a fresh copy "
        "(or export it as CSV) and share it again.",
        f"*{name}* 파일은 {ko_what} 아니에요: 손상되었거나, 보호되어 있거나(암호나 DRM), 다른 "
        "종류의 파일 이름만 바꾼 것일 수 있어요. 만든 프로그램에서 열어 새로 저장하거나 CSV로 "
        "내보내서 다시 공유해 주세요.",
    )


def empty_workbook(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* has no data in it: every sheet is empty. Check that you shared the right "
        "workbook (saved after entering the data) and share it again.",
        f"*{name}* 파일에 데이터가 없어요: 모든 시트가 비어 있어요. 데이터를 입력하고 저장한 "
        "파일이 맞는지 확인한 뒤 다시 공유해 주세요.",
    )


# ---------------------------------------------------------------- compressed files


def archive_holds_several(lang: str, name: str, count: int) -> str:
    return pick(
        lang,
        f"*{name}* holds {count} files; I read compressed files that hold exactly one. Share "
        "the files themselves (or one archive per file) instead.",
        f"*{name}* 안에 파일이 {count}개 있어요. 압축 파일은 파일이 하나만 들어 있어야 읽을 수 "
        "있어요. 파일을 압축하지 않고 그대로 (또는 파일마다 따로 압축해서) 공유해 주세요.",
    )


def archive_is_empty(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* is an archive with no file in it. Share the data file itself instead.",
        f"*{name}* 압축 파일 안에 파일이 없어요. 데이터 파일을 그대로 공유해 주세요.",
    )


def archive_encrypted(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* is protected by a password, so I can't open it. Share the file without "
        "a password (or unzipped) instead.",
        f"*{name}* 파일은 암호로 보호되어 있어 열 수 없어요. 암호 없이 (또는 압축을 풀어서) "
        "다시 공유해 주세요.",
    )


def archive_corrupt(lang: str, name: str) -> str:
    return pick(
        lang,
        f"*{name}* could not be decompressed: it is damaged or not really a .gz, .bz2, .xz "
        "or .zip file. Compress it again (or share the file uncompressed).",
        f"*{name}* 파일의 압축을 풀 수 없어요: 파일이 손상되었거나 실제로는 .gz, .bz2, .xz, "
        ".zip 파일이 아니에요. 다시 압축하거나 압축하지 않은 파일을 공유해 주세요.",
    )


def archive_too_large(lang: str, name: str, limit_mb: int) -> str:
    return pick(
        lang,
        f"*{name}* expands to more than {limit_mb} MB, over the size limit for one file. "
        "Share a smaller extract (fewer rows or columns) instead.",
        f"*{name}* 파일은 압축을 풀면 {limit_mb}MB를 넘어 파일 하나의 크기 제한을 넘어요. "
        "행이나 열을 줄인 일부만 공유해 주세요.",
    )


def archive_inner_unsupported(lang: str, name: str, inner: str) -> str:
    supported = supported_types(lang)
    return pick(
        lang,
        f"*{name}* holds *{inner}*, which is not a file type I can read (I read {supported}). "
        "Name the file inside for its format (for example sales.csv.gz), or export it as CSV "
        "or XLSX and share it again.",
        f"*{name}* 안의 *{inner}* 파일은 읽을 수 없는 형식이에요 (읽을 수 있는 형식: "
        f"{supported}). 안의 파일 이름에 형식을 붙이거나 (예: sales.csv.gz) CSV나 XLSX로 "
        "내보내서 다시 공유해 주세요.",
    )

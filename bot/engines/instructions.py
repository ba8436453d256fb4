"""The instructions the model gets on every turn (pure).

They name the exact sandbox path of every file (the sandbox may prefix names with a hash) and
how to read it, and fix the house rules: the user's language, charts as PNG files, Hangul-safe
fonts, Markdown tables, stated assumptions, concise answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.files import model_note
from bot.types import UploadedFile

_RULES = """\
How to answer:
- Answer in the language of the question: a question written in Korean gets its whole answer \
in Korean; an English question gets English.
- Read each file from the exact path above, with the encoding, delimiter and other options \
given (for example pd.read_csv(path, encoding="cp949", sep=";"), or \
pd.read_excel(path, sheet_name="Sales", skiprows=2)). Unzip a zipped file first \
(zipfile.ZipFile(path).extractall("/mnt/data/")) and read the file inside it.
- Where a file's line says its encoding is guessed or uncertain, or that it is not valid \
JSON, check what you read (look at the non-ASCII text, find the broken part) before \
relying on it, and tell the user what you found.
- Save every chart as a PNG under /mnt/data with a short descriptive file name \
(for example /mnt/data/monthly_sales.png) using plt.savefig(..., dpi=150, \
bbox_inches="tight"), and mention the file name in the answer. The reader sees the PNG files, \
not plt.show().
- Draw charts with matplotlib. When labels or titles contain Korean, first pick an installed \
font with Hangul glyphs (search matplotlib.font_manager.fontManager.ttflist for names such as \
NanumGothic, Noto Sans CJK KR, Noto Sans KR, UnDotum or Malgun Gothic) and set \
plt.rcParams["font.family"] to it with plt.rcParams["axes.unicode_minus"] = False; if none is \
installed, use romanized or English labels so that no label shows as empty boxes.
- Show tables as Markdown tables; keep them short (about 20 rows at most) and summarise \
larger results.
- State your assumptions briefly (which column you took as the date, how you handled \
missing values or duplicates, units).
- Keep the answer concise: the result first, then a short explanation. Do not paste the \
code into the answer."""


def is_wrapped(file: UploadedFile) -> bool:
    """Whether the file travelled inside a .zip (TSV, XLS, ODS, Parquet, compressed files)."""
    upload_name = file.upload_name or file.name
    return upload_name != file.name and upload_name.lower().endswith(".zip")


def file_line(file: UploadedFile, path: str) -> str:
    """One line for the model: where the file is and how to read it."""
    return "- " + model_note(file.name, file.facts, wrapped=is_wrapped(file), container_path=path)


def instructions_for(
    *,
    files: Sequence[UploadedFile],
    file_paths: Mapping[str, str],
    left_out: Sequence[str] = (),
) -> str:
    """The instructions text for one turn.

    ``file_paths`` maps engine file ids to their sandbox paths; files without a path are not
    in the sandbox and are not listed as readable.
    """
    lines = [
        "You are a careful data analyst. People in a Slack thread ask questions about their "
        "data files; answer them by running Python in your sandbox.",
        "",
    ]
    present = [(f, file_paths[f.file_id]) for f in files if f.file_id in file_paths]
    if present:
        lines.append("Files in the sandbox (read them from these exact paths):")
        lines.extend(file_line(f, path) for f, path in present)
    else:
        lines.append("No data files are in the sandbox for this question.")
    if left_out:
        lines.append(
            "Not in the sandbox (too many files in this thread; say so if the question needs "
            "them): " + ", ".join(left_out)
        )
    lines.extend(["", _RULES])
    return "\n".join(lines)

"""The instructions the model gets on every turn (pure).

They name the exact sandbox path of every file (the sandbox may prefix names with a hash) and
how to read it, and fix the house rules: the user's language, charts as PNG files (with a
description Slack can draw natively for a simple pie chart), the Hangul font, Markdown
tables, full results saved as files, stated assumptions, concise answers.
"""

from __future__ import annotations

import re
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
{font_rule}
- For a pie chart of at most 6 slices, also save a description of it next to the PNG, with \
the same name ending in .chart.json (for /mnt/data/region_share.png save \
/mnt/data/region_share.chart.json), written with json.dump(..., ensure_ascii=False) as \
exactly {{"type": "pie", "title": "...", "segments": [{{"label": "...", "value": 12.5}}]}}: \
a title of at most 50 characters, 1 to 6 segments, each label at most 20 characters and \
different from the others, each value a plain number greater than 0, no other keys. Slack \
then draws that chart itself. Save no description for other kinds of chart.
- Show tables as Markdown tables; keep them short (about 20 rows at most) and summarise \
larger results.
- Whenever a result has more rows than you show, save the full result under /mnt/data as a \
CSV file with a short descriptive name (df.to_csv(path, index=False, \
encoding="utf-8-sig")) and say in the answer that the full table is in that file; the \
reader gets the files you save.{excel_rule}
- State your assumptions briefly (which column you took as the date, how you handled \
missing values or duplicates, units).
- Keep the answer concise: the result first, then a short explanation. Do not paste the \
code into the answer."""


_FONT_RULE = """\
- Draw charts with matplotlib. A font with Korean (Hangul) glyphs is at {path}. Before \
plotting, register it and make it the default: \
from matplotlib import font_manager; font_manager.fontManager.addfont("{path}"); \
plt.rcParams["font.family"] = font_manager.FontProperties(fname="{path}").get_name(); \
plt.rcParams["axes.unicode_minus"] = False. Then Korean titles, labels and legends render."""

_NO_FONT_RULE = """\
- Draw charts with matplotlib. When labels or titles contain Korean, first pick an installed \
font with Hangul glyphs (search matplotlib.font_manager.fontManager.ttflist for names such as \
NanumGothic, Noto Sans CJK KR, Noto Sans KR, UnDotum or Malgun Gothic) and set \
plt.rcParams["font.family"] to it with plt.rcParams["axes.unicode_minus"] = False; if none is \
installed, use romanized or English labels so that no label shows as empty boxes."""

_EXCEL_RULE = (
    " The person asked for Excel: save the full result as an .xlsx file too "
    "(df.to_excel(path, index=False))."
)
_EXCEL = re.compile(r"excel|xlsx|엑셀", re.IGNORECASE)


def asks_for_excel(question: str) -> bool:
    """Whether the question asks for an Excel file (in English or Korean)."""
    return bool(_EXCEL.search(question))


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
    font_path: str | None = None,
    wants_excel: bool = False,
) -> str:
    """The instructions text for one turn.

    ``file_paths`` maps engine file ids to their sandbox paths; files without a path are not
    in the sandbox and are not listed as readable. ``font_path`` is the Hangul font in the
    sandbox (without one, charts keep Korean out of their labels); ``wants_excel`` adds an
    .xlsx copy of full results.
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
    font_rule = _FONT_RULE.format(path=font_path) if font_path else _NO_FONT_RULE
    rules = _RULES.format(font_rule=font_rule, excel_rule=_EXCEL_RULE if wants_excel else "")
    lines.extend(["", rules])
    return "\n".join(lines)

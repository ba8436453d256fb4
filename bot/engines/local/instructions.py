"""The system message the local engine's model gets on every turn (pure).

Like bot/engines/instructions.py, but for a kernel we run: the files sit at /mnt/data/<name>
as they are (nothing zipped), the Hangul font is matplotlib's default already, and the only
tool is ``python``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.files import model_note
from bot.types import UploadedFile

_RULES = """\
How to work:
- Use the python tool to run code; it runs in a Jupyter kernel that keeps variables between \
calls. Look at the data before you answer, and answer from what the code printed, never from \
guesses.
- Read each file from the exact path above, with the encoding and delimiter given \
(for example pd.read_csv(path, encoding="cp949", sep=";")).
- Save every chart as a PNG under /mnt/data with a short descriptive file name \
(for example /mnt/data/monthly_sales.png) using plt.savefig(..., dpi=150, \
bbox_inches="tight"), then plt.close(). The reader sees the files you save in /mnt/data.
- Matplotlib's default font already has Korean (Hangul) glyphs: use Korean titles, labels \
and legends freely and do not change the font.
- There is no network: do not install packages or download anything. pandas, numpy, \
matplotlib, scipy, openpyxl, xlrd and pyarrow are installed.
- When a tool result says the kernel was restarted, variables are gone: load the files again.

How to answer:
- Answer in the language of the question: a question written in Korean gets its whole answer \
in Korean; an English question gets English.
- Show tables as Markdown tables; keep them short (about 20 rows at most) and summarise \
larger results.
- State your assumptions briefly (which column you took as the date, how you handled \
missing values or duplicates, units).
- Keep the answer concise: the result first, then a short explanation. Do not paste the \
code into the answer."""

STATE_GONE = (
    "The Python kernel of this thread was started afresh since the earlier questions: "
    "variables from before are gone; the files are back in /mnt/data."
)


def local_instructions(
    *,
    files: Sequence[UploadedFile],
    file_paths: Mapping[str, str],
    left_out: Sequence[str] = (),
    state_gone: bool = False,
) -> str:
    """The system message for one turn; ``file_paths`` maps file ids to /mnt/data paths."""
    lines = [
        "You are a careful data analyst. People in a Slack thread ask questions about their "
        "data files; answer them by running Python with the python tool.",
        "",
    ]
    present = [(f, file_paths[f.file_id]) for f in files if f.file_id in file_paths]
    if present:
        lines.append("Files in /mnt/data (read them from these exact paths):")
        lines.extend(
            "- " + model_note(f.name, f.facts, wrapped=False, container_path=path)
            for f, path in present
        )
    else:
        lines.append("No data files are in /mnt/data for this question.")
    if left_out:
        lines.append(
            "Not in /mnt/data (too many files in this thread; say so if the question needs "
            "them): " + ", ".join(left_out)
        )
    if state_gone:
        lines.extend(["", STATE_GONE])
    lines.extend(["", _RULES])
    return "\n".join(lines)

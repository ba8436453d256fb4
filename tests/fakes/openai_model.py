"""The scripted "model" of the fake OpenAI server: it reads the container's files and answers.

``default_model(context)`` is deterministic and looks only at the bytes stored in the
container, so a corrupted or re-encoded upload changes its answer. What it does, exactly:

For every file with ``source == "user"`` in the container (oldest first), named by its
filename as stored in the container without the hash prefix (``/mnt/data/<hex>-sales.csv``
→ ``sales.csv``):

* ``.zip``: the single member inside is read (a zip with another number of members gives
  ``- <name>: zip with <n> members``); the member's own name picks the delimiter rules below.
* ``.csv`` / ``.tsv`` / ``.txt`` (or a zip of one): the encoding is detected from the bytes:
  UTF-8 BOM → ``utf-8-sig``; UTF-16 BOM → ``utf-16``; valid UTF-8 → ``utf-8``; valid CP949 →
  ``cp949``; otherwise ``latin-1``. The delimiter is whichever of ``,`` ``\\t`` ``;`` ``|``
  occurs most often in the first non-blank line (``,`` on a tie). Blank lines are ignored;
  ``rows`` = data lines (lines after the header, parsed with ``csv``); ``total`` = sum of the
  last column's values that parse as numbers (thousands separators ``,`` removed; anything
  else is skipped).
  Answer line: ``- <name>: <rows> rows, total <total:g> (encoding <encoding>)``.
  Log line: ``<name>: rows=<rows> total=<total:g>``.
* any other file: ``- <name>: <bytes> bytes, not a text table``.

The answer text is ``"Here is what I found in the files:\\n"`` followed by the file lines.
The code is a pandas snippet that reads every table by its exact container path.
No user file at all → text ``"I could not find any data files in the container."`` and no code.

Question keywords (case-insensitive):

* ``chart`` / ``차트`` / ``그래프``: the code ends with ``plt.savefig('/mnt/data/chart.png')``;
  a real PNG (a bar per table, heights ∝ totals) becomes a container file (source
  ``assistant``) that is cited with a ``container_file_citation``; the text gets a line
  ``[chart](sandbox:/mnt/data/chart.png)``.
* ``table``: the text also has a Markdown table ``| File | Rows | Total |``.
* ``long answer``: paragraphs are appended until the text is about 30,000 characters.

Replace it with ``fake.model = my_model``: any ``Callable[[ModelContext], ModelResult]``.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

CHART_PATH = "/mnt/data/chart.png"
CHART_WORDS = ("chart", "차트", "그래프")


@dataclass(frozen=True)
class ModelFile:
    """A file in the run's container, as the model sees it; ``data`` is read from disk."""

    file_id: str
    name: str  # the filename without the hash prefix, e.g. "sales.csv"
    container_path: str  # e.g. "/mnt/data/5f0c...-sales.csv"
    source: str  # "user" or "assistant"
    disk_path: Path

    @cached_property
    def data(self) -> bytes:
        return self.disk_path.read_bytes()


@dataclass(frozen=True)
class ModelContext:
    """Everything one run gives the model; kept in ``FakeOpenAI.model_calls``."""

    response_id: str
    question: str  # text of the last user message of ``input``
    instructions: str | None
    input: Any  # the request's ``input`` as sent
    tools: list[dict[str, Any]]  # the request's ``tools`` as sent
    container_id: str | None
    conversation_id: str | None
    history_length: int  # items already in the conversation / previous response chain
    files: list[ModelFile]


@dataclass(frozen=True)
class ModelArtifact:
    """A file the code "saved": becomes a container file (source assistant), optionally cited.

    With ``size`` the file has that many made-up bytes (VirtualContent, never stored: any size
    is cheap) instead of ``data``; ``declared_bytes`` makes the container's file list state
    another size than the content has.
    """

    path: str  # "/mnt/data/chart.png"
    data: bytes = b""
    cite: bool = True
    size: int | None = None
    declared_bytes: int | None = None


@dataclass(frozen=True)
class ModelFailure:
    """Ends the run with ``response.failed`` after the code item (error.code/message)."""

    code: str = "server_error"
    message: str = "The model failed to generate a response."


@dataclass(frozen=True)
class ModelResult:
    text: str
    code: str | None = None
    logs: str | None = None
    artifacts: list[ModelArtifact] = field(default_factory=list)
    failure: ModelFailure | None = None


ScriptedModel = Callable[[ModelContext], ModelResult]


@dataclass(frozen=True)
class TableFigures:
    name: str
    container_path: str
    rows: int
    total: float
    encoding: str
    delimiter: str


def default_model(context: ModelContext) -> ModelResult:
    """The documented deterministic answer (see the module docstring)."""
    # A font the bot put in the sandbox is not data.
    user_files = [f for f in context.files if f.source == "user" and not f.name.endswith(".ttf")]
    if not user_files:
        return ModelResult(text="I could not find any data files in the container.")
    question = context.question.lower()
    lines: list[str] = []
    tables: list[TableFigures] = []
    for file in user_files:
        figures = table_figures(file)
        if isinstance(figures, str):
            lines.append(f"- {file.name}: {figures}")
            continue
        tables.append(figures)
        lines.append(
            f"- {file.name}: {figures.rows} rows, total {figures.total:g} "
            f"(encoding {figures.encoding})"
        )
    text = "Here is what I found in the files:\n" + "\n".join(lines)
    wants_chart = any(word in question for word in CHART_WORDS)
    artifacts: list[ModelArtifact] = []
    if wants_chart:
        text += f"\n\n[chart](sandbox:{CHART_PATH})"
        artifacts.append(ModelArtifact(path=CHART_PATH, data=bar_chart_png(tables)))
    if "table" in question:
        text += "\n\n" + markdown_table(tables)
    if "long answer" in question:
        text += long_paragraphs(target_chars=30_000 - len(text))
    logs = "\n".join(f"{t.name}: rows={t.rows} total={t.total:g}" for t in tables)
    return ModelResult(
        text=text,
        code=pandas_code(tables, chart=wants_chart),
        logs=logs or None,
        artifacts=artifacts,
    )


def table_figures(file: ModelFile) -> TableFigures | str:
    """Rows and last-column total of a delimited text file (or a zip of one), or a reason."""
    data, inner_name = file.data, file.name
    if file.name.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1:
                    return f"zip with {len(members)} members"
                inner_name = members[0].filename
                data = archive.read(members[0])
        except zipfile.BadZipFile:
            return "not a valid zip file"
    if not inner_name.lower().endswith((".csv", ".tsv", ".txt")):
        return f"{len(file.data)} bytes, not a text table"
    encoding = detect_encoding(data)
    text = data.decode(encoding, errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "empty file"
    delimiter = max((",", "\t", ";", "|"), key=lambda d: (lines[0].count(d), d == ","))
    rows = list(csv.reader(lines[1:], delimiter=delimiter))
    total = sum(_number(row[-1]) for row in rows if row)
    return TableFigures(
        name=file.name,
        container_path=file.container_path,
        rows=len(rows),
        total=total,
        encoding=encoding,
        delimiter=delimiter,
    )


def detect_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for encoding in ("utf-8", "cp949"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _number(value: str) -> float:
    try:
        return float(value.strip().replace(",", ""))
    except ValueError:
        return 0.0


def pandas_code(tables: list[TableFigures], *, chart: bool) -> str:
    lines = ["import pandas as pd", ""]
    for i, t in enumerate(tables):
        sep = "\\t" if t.delimiter == "\t" else t.delimiter
        lines.append(
            f"df{i} = pd.read_csv({t.container_path!r}, encoding={t.encoding!r}, sep='{sep}')"
        )
        lines.append(f'print(f"rows={{len(df{i})}} total={{df{i}.iloc[:, -1].sum():g}}")')
    if chart:
        lines += [
            "",
            "import matplotlib.pyplot as plt",
            "totals = [" + ", ".join(f"df{i}.iloc[:, -1].sum()" for i in range(len(tables))) + "]",
            "plt.bar(range(len(totals)), totals)",
            f"plt.savefig({CHART_PATH!r})",
        ]
    return "\n".join(lines) + "\n"


def markdown_table(tables: list[TableFigures]) -> str:
    rows = [f"| {t.name} | {t.rows} | {t.total:g} |" for t in tables]
    return "\n".join(["| File | Rows | Total |", "|---|---:|---:|", *rows])


def long_paragraphs(*, target_chars: int) -> str:
    sentence = (
        "The figures above come straight from the uploaded tables, row by row, and every total "
        "is the sum of the last column. "
    )
    out: list[str] = []
    size = 0
    n = 0
    while size < target_chars:
        n += 1
        paragraph = f"\n\nParagraph {n}. " + sentence * 6
        out.append(paragraph)
        size += len(paragraph)
    return "".join(out)


def bar_chart_png(tables: list[TableFigures], *, width: int = 64, height: int = 48) -> bytes:
    """A real RGB PNG with one bar per table; taller bars for larger totals."""
    totals = [abs(t.total) for t in tables] or [0.0]
    top = max(totals) or 1.0
    bar_width = max(1, width // (2 * len(totals)))
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type 0 for each scanline
        for x in range(width):
            index, offset = divmod(x, 2 * bar_width)
            bar_height = int(totals[index] / top * (height - 4)) if index < len(totals) else 0
            inside = offset < bar_width and height - y <= bar_height
            row += b"\x1f\x77\xb4" if inside else b"\xff\xff\xff"
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

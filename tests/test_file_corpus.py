"""Real files from public packages: what the model is told against what pandas reads.

tests/corpus/ keeps small data files shipped inside public Python packages (exports, test
fixtures and data sets nobody on this team wrote), with their licences, listed in
MANIFEST.toml with where each came from. For every file the test takes the line the model
gets, reads the file with pandas using exactly the options that line states, and compares
the result with what a careful reader gets (the real encoding and options, chosen by hand
and recorded in the manifest; for workbooks, every sheet read whole). Nothing is downloaded.
"""

from __future__ import annotations

import ast
import bz2
import gzip
import hashlib
import lzma
import re
import shutil
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bot import errors
from bot.files import inspect_file, model_note
from bot.files.archives import is_compressed_name, opened_inner
from bot.types import FileFacts

# openpyxl warns about workbook features it drops on reading; they are not data.
# pandas 3 deprecates xlrd for .xls, which is what the sandbox's pandas still uses.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*is not supported and will be removed"),
    pytest.mark.filterwarnings("ignore:The xlrd engine is deprecated"),
]

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = tomllib.loads((CORPUS / "MANIFEST.toml").read_text(encoding="utf-8"))
FILES: list[dict[str, Any]] = MANIFEST["file"]
LICENCES: list[dict[str, Any]] = MANIFEST["licence"]
TEXT_KINDS = ("csv", "tsv", "txt")
# One option as the model's line states it: sep=',', skiprows=1, header=None, sep=r"\s+"
_OPTION = re.compile(r"\s*(\w+)=(r?'(?:[^'\\]|\\.)*'|r?\"(?:[^\"\\]|\\.)*\"|[\w.]+)\s*,?")
_SHEET = re.compile(
    r"(?P<name>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")(?: \(hidden\))?: (?:(?P<empty>empty)|"
    r"(?P<about>about )?(?P<rows>\d+) rows? × (?P<cols>\d+) columns? under the header in row "
    r"\d+ \[.*?\](?: \(read with (?P<options>[^)]*)\))?)(?=; |$)"
)


def told_options(text: str) -> dict[str, Any]:
    """Every ``name=value`` the text states after "read with", as Python values."""
    options: dict[str, Any] = {}
    for start in (m.end() for m in re.finditer(r"read with ", text)):
        position = start
        while match := _OPTION.match(text, position):
            options[match.group(1)] = ast.literal_eval(match.group(2))
            position = match.end()
    return options


def truth_options(entry: dict[str, Any]) -> dict[str, Any]:
    read = dict(entry.get("read", {}))
    return {key: None if value == "None" else value for key, value in read.items()}


def line_for(name: str, facts: FileFacts) -> str:
    wrapped = facts.mime_type == "application/zip"
    return model_note(name, facts, wrapped=wrapped, container_path=None)


def readable_copy(path: Path, tmp_path: Path) -> Path:
    """The file the model reads: a compressed file's inner file, decompressed."""
    if not is_compressed_name(path.name):
        return path
    target = tmp_path / path.name.rsplit(".", 1)[0]
    with opened_inner(path) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
    return target


# ---------------------------------------------------------------- the corpus itself


def test_every_corpus_file_is_listed_with_its_source_and_licence_and_unchanged() -> None:
    listed = {entry["path"] for entry in [*FILES, *LICENCES]}
    kept = {
        path.relative_to(CORPUS).as_posix()
        for path in CORPUS.rglob("*")
        if path.is_file() and path.name not in ("MANIFEST.toml", "refresh.py")
    }
    assert listed == kept
    licensed = {entry["package"] for entry in LICENCES}
    for entry in [*FILES, *LICENCES]:
        data = (CORPUS / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert entry["package"] and entry["version"] and entry["member"], entry["path"]
    for entry in FILES:
        assert entry["licence"] and entry["package"] in licensed, entry["path"]
    assert sum((CORPUS / entry["path"]).stat().st_size for entry in FILES) < 4 * 1024 * 1024


# ---------------------------------------------------------------- told against read


@pytest.mark.parametrize("entry", FILES, ids=[entry["path"] for entry in FILES])
def test_what_the_model_is_told_is_what_pandas_reads(entry: dict[str, Any], tmp_path: Path) -> None:
    path = CORPUS / entry["path"]
    if "refused" in entry:
        with pytest.raises(getattr(errors, entry["refused"])):
            inspect_file(path, name=path.name)
        return
    facts = inspect_file(path, name=path.name)
    line = line_for(path.name, facts)
    source = readable_copy(path, tmp_path)
    if facts.kind in TEXT_KINDS:
        _check_text(entry, facts, line, source)
    elif facts.kind == "json":
        told = told_options(line)
        frame = pd.read_json(source, encoding=facts.encoding, **told)
        truth = pd.read_json(source, encoding=entry["encoding"], **truth_options(entry))
        pd.testing.assert_frame_equal(frame, truth)
    elif facts.kind in ("xlsx", "ods"):
        _check_workbook(entry, facts, source)
    elif facts.kind == "xls":
        assert pd.read_excel(source, sheet_name=None)  # told as a workbook; pandas agrees
    else:
        assert facts.kind == "parquet"
        assert not pd.read_parquet(source).empty


def _check_text(entry: dict[str, Any], facts: FileFacts, line: str, source: Path) -> None:
    raw = source.read_bytes()
    assert facts.encoding is not None
    # The letters the model reads are the letters in the file.
    assert raw.decode(facts.encoding) == raw.decode(entry["encoding"])
    told = told_options(line)
    if "read" not in entry:  # prose: no delimiter, no table
        assert (facts.delimiter, told) == (None, {}), line
        return
    assert told.pop("encoding") == facts.encoding
    frame = pd.read_csv(source, encoding=facts.encoding, **told)
    truth = pd.read_csv(source, encoding=entry["encoding"], **truth_options(entry))
    pd.testing.assert_frame_equal(frame, truth)


def _check_workbook(entry: dict[str, Any], facts: FileFacts, source: Path) -> None:
    assert facts.note is not None
    engine = told_options(facts.note).get("engine")
    assert engine == ("odf" if facts.kind == "ods" else None)
    if "pandas_fails" in entry:
        with pytest.raises(Exception):  # noqa: B017 - whichever error the reader raises
            pd.read_excel(source, sheet_name=None, engine=engine)
        return
    told = {ast.literal_eval(m.group("name")): m for m in _SHEET.finditer(facts.note)}
    names = pd.ExcelFile(source, engine=engine).sheet_names
    assert list(told) == names
    for index, name in enumerate(names):
        match = told[name]
        grid = pd.read_excel(source, sheet_name=name, header=None, engine=engine)
        grid = grid.dropna(how="all", axis=0)
        if match.group("empty"):
            assert grid.empty, name
            continue
        options = told_options(f"read with {match.group('options') or ''}")
        assert options.pop("sheet_name", names[0]) == name
        frame = pd.read_excel(source, sheet_name=index, engine=engine, **options)
        assert frame.shape == (int(match.group("rows")), int(match.group("cols"))), name
        # The header told is the first row holding anything, as a careful reader finds it.
        assert options.get("skiprows", 0) == grid.index[0], name


# ---------------------------------------------------------------- compressed alone

PLAIN = [e for e in FILES if "read" in e and not is_compressed_name(e["path"])][:6]


def _compressed(path: Path, suffix: str, into: Path) -> Path:
    data = path.read_bytes()
    target = into / f"{path.name}.{suffix}"
    if suffix == "zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(path.name, data)
    else:
        compress = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[suffix]
        target.write_bytes(compress(data))
    return target


@pytest.mark.parametrize("suffix", ["gz", "bz2", "xz", "zip"])
@pytest.mark.parametrize("entry", PLAIN, ids=[entry["path"] for entry in PLAIN])
def test_a_real_file_compressed_alone_is_told_as_the_file_itself(
    entry: dict[str, Any], suffix: str, tmp_path: Path
) -> None:
    path = CORPUS / entry["path"]
    plain = inspect_file(path, name=path.name)
    packed = _compressed(path, suffix, tmp_path)
    facts = inspect_file(packed, name=packed.name)
    assert (facts.kind, facts.encoding, facts.delimiter) == (
        plain.kind,
        plain.encoding,
        plain.delimiter,
    )
    assert facts.mime_type == "application/zip"
    assert told_options(line_for(packed.name, facts)) == told_options(line_for(path.name, plain))

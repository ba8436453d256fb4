"""Rewrite the model's ``sandbox:/mnt/data/...`` links, which mean nothing outside the sandbox.

The files they point at travel next to the answer (uploaded into the thread), so a link
becomes its label plus the file name the reader will see: ``[chart](sandbox:/mnt/data/a.png)``
→ ``chart (a.png)``. A link to a file that is not delivered keeps only its label.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import unquote

_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?sandbox:([^)>\n]*?)>?\s*\)")
_BARE = re.compile(r"sandbox:(/[^\s)\]>\"'`]+)")


def sandbox_file_name(target: str) -> str:
    """The file name at the end of a sandbox path, percent-decoded (``/mnt/data/a%20b.png``)."""
    return unquote(target.rstrip("/").rsplit("/", 1)[-1]).strip()


def rewrite_sandbox_links(text: str, names: Collection[str]) -> str:
    """``text`` with every sandbox link replaced by plain text (see the module docstring).

    ``names`` are the names of the files delivered with the answer.
    """

    def link(match: re.Match[str]) -> str:
        label = match.group(2).strip()
        name = sandbox_file_name(match.group(3))
        if name not in names:
            return label or name
        if not label or label == name:
            return name
        return f"{label} ({name})"

    def bare(match: re.Match[str]) -> str:
        return sandbox_file_name(match.group(1))

    return _BARE.sub(bare, _LINK.sub(link, text))

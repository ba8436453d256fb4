"""Rewrite the model's ``sandbox:/mnt/data/...`` links, which mean nothing outside the sandbox.

The files they point at travel next to the answer (attached to the thread), so a link to a
delivered file becomes its label plus the attached file's name: ``[chart](sandbox:/mnt/data/a.png)``
→ ``chart (📎 `a.png`)``; a link to a file that is not delivered keeps only its label. Links the
Markdown parser does not see as links, and anything inside code, are left alone; a bare
``sandbox:/mnt/data/a.png`` in prose becomes the file's name.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from urllib.parse import unquote

from bot.markdown import markdown_parser

__all__ = ["rewrite_sandbox_links"]

_SANDBOX_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\\\n]|\\.)*)\]"
    r"\(\s*(?P<dest><sandbox:[^<>\n]*>|sandbox:(?:[^\s()]|\([^\s()]*\))*)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
)


def _sandbox_targets(markdown: str) -> tuple[set[str], list[range]]:
    """Sandbox link targets the parser sees as links, and the line ranges of code blocks."""
    targets: set[str] = set()
    code_lines: list[range] = []
    stack = list(markdown_parser().parse(markdown))
    while stack:
        token = stack.pop()
        if token.type in ("fence", "code_block") and token.map:
            code_lines.append(range(token.map[0], token.map[1]))
        attr = "href" if token.type == "link_open" else "src" if token.type == "image" else ""
        target = unquote(str(token.attrs.get(attr, ""))) if attr else ""
        if target.startswith("sandbox:"):
            targets.add(target)
        stack.extend(token.children or ())
    return targets, code_lines


def rewrite_sandbox_links(markdown: str, names: Mapping[str, str]) -> str:
    """Replace links to the code interpreter's sandbox files, which Slack users cannot open.

    ``names`` maps a sandbox path ("/mnt/data/chart.png", "sandbox:/mnt/data/chart.png") or
    a basename ("chart.png") to the name of the file attached to the thread. A known link
    becomes "text (📎 `name`)"; an unknown one keeps its text and loses the link. Links
    inside code are left alone.
    """
    if "sandbox:" not in markdown:
        return markdown
    targets, code_lines = _sandbox_targets(markdown)

    def replace(match: re.Match[str]) -> str:
        line = markdown.count("\n", 0, match.start())
        target = unquote(match["dest"].strip("<>"))
        if target not in targets or any(line in lines for lines in code_lines):
            return match.group(0)
        path = target.removeprefix("sandbox:")
        base = posixpath.basename(path)
        name = names.get(target) or names.get(path) or names.get(base)
        text = match["text"].strip()
        if name is None:
            return text or base
        attached = f"📎 `{name.replace('`', '')}`"
        return f"{text} ({attached})" if text else attached

    return _without_bare_links(_SANDBOX_LINK.sub(replace, markdown), names)


_BARE = re.compile(r"(?<![\w(<`/])sandbox:(/[^\s)\]>\"'`]+)")


def _without_bare_links(markdown: str, names: Mapping[str, str]) -> str:
    """Bare sandbox paths in prose (outside code) become the attached file's name."""
    if "sandbox:" not in markdown:
        return markdown
    _targets, code_lines = _sandbox_targets(markdown)

    def replace(match: re.Match[str]) -> str:
        line = markdown.count("\n", 0, match.start())
        if any(line in lines for lines in code_lines) or _inside_code_span(markdown, match):
            return match.group(0)
        path = unquote(match.group(1))
        base = posixpath.basename(path.rstrip("/"))
        return names.get(path) or names.get(base) or base

    return _BARE.sub(replace, markdown)


def _inside_code_span(markdown: str, match: re.Match[str]) -> bool:
    line_start = markdown.rfind("\n", 0, match.start()) + 1
    return markdown.count("`", line_start, match.start()) % 2 == 1

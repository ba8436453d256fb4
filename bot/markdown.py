"""The one Markdown parser configuration, shared by the Slack rendering and the engines."""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt

__all__ = ["markdown_parser"]


@functools.cache
def markdown_parser() -> MarkdownIt:
    """CommonMark plus GFM tables and strikethrough, as the model writes its answers."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])

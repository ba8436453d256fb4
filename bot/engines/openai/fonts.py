"""The Hangul font in the thread's container, so charts with Korean text render.

matplotlib's default font has no Hangul glyphs and the sandbox is not known to have one, so
NanumGothic (bot/assets, SIL OFL) goes into the thread's container, uploaded straight into it
(no Files API object to track or delete: it goes with the container), before a turn whose
question or file names have Hangul or whose data is in a Korean code page. Not for every
container: at 4.7 MB a new container, a burst of new English threads spent most of its CPU
and memory on the font. A thread that turns to Korean later gets it then (a container that
already holds it is not sent it again). A failed upload is not an error: the run then has
no font path and the instructions fall back to English labels.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import weakref
from collections.abc import Sequence

import openai

from bot.assets import HANGUL_FONT
from bot.types import UploadedFile

__all__ = ["FONT_NAME", "ensure_font", "find_font", "upload_font", "wants_hangul_font"]

FONT_NAME = HANGUL_FONT.name
_LIST_LIMIT = 100
# Many new threads at once would otherwise each hold the font's request body in memory.
_UPLOADS_AT_ONCE = 4

log = logging.getLogger(__name__)
_uploads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _upload_slots() -> asyncio.Semaphore:
    """One semaphore per event loop (a semaphore belongs to the loop it first waits on)."""
    loop = asyncio.get_running_loop()
    slots = _uploads.get(loop)
    if slots is None:
        slots = _uploads[loop] = asyncio.Semaphore(_UPLOADS_AT_ONCE)
    return slots


_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_KOREAN_CODE_PAGES = frozenset({"cp949", "euc-kr", "euc_kr", "johab", "iso-2022-kr", "uhc"})


def wants_hangul_font(question: str, files: Sequence[UploadedFile]) -> bool:
    """Whether a turn's charts may carry Korean: Hangul in the question or a file name, or
    data in a Korean code page."""
    if _HANGUL.search(question) or any(_HANGUL.search(f.name) for f in files):
        return True
    return any((f.facts.encoding or "").lower() in _KOREAN_CODE_PAGES for f in files if f.facts)


@functools.cache
def _font_bytes() -> bytes:
    """The font file, read once per process (every container gets the same 4.7 MB)."""
    return HANGUL_FONT.read_bytes()


async def upload_font(client: openai.AsyncOpenAI, *, container_id: str) -> str | None:
    """Upload the font into the container; its sandbox path, or None when that failed."""
    try:
        data = await asyncio.to_thread(_font_bytes)
        async with _upload_slots():
            added = await client.containers.files.create(
                container_id, file=(FONT_NAME, data, "font/ttf")
            )
    except (openai.OpenAIError, OSError) as err:
        log.warning("could not put the Hangul font in container %s: %s", container_id, err)
        return None
    return added.path


async def find_font(client: openai.AsyncOpenAI, *, container_id: str) -> str | None:
    """The font's path in a live container that already holds it; None when it does not
    (or the list could not be read)."""
    try:
        page = await client.containers.files.list(container_id, order="asc", limit=_LIST_LIMIT)
    except openai.OpenAIError as err:
        log.warning("could not list files of container %s: %s", container_id, err)
        return None
    for entry in page.data:
        if entry.source == "user" and entry.path.rsplit("/", 1)[-1].endswith(FONT_NAME):
            return entry.path
    return None


async def ensure_font(client: openai.AsyncOpenAI, *, container_id: str, fresh: bool) -> str | None:
    """The font's path in the container, uploading it unless a reused container has it."""
    if not fresh:
        found = await find_font(client, container_id=container_id)
        if found is not None:
            return found
    return await upload_font(client, container_id=container_id)

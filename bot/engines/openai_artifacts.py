"""Fetch the files a finished response produced (charts, CSVs) as Artifact events.

Sources, in order: ``container_file_citation`` annotations; as a fallback the container's
files written by the code during the turn (``source == "assistant"``, created at or after
the response started), since citations are sometimes missing; and images the code showed
inline (``data:`` URLs in ``code_interpreter_call`` outputs). Duplicates (same container
file, or same bytes) are delivered once.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Sequence

import openai
from openai.types.responses import Response, ResponseCodeInterpreterToolCall

from bot.engines.openai_stream import (
    CitedFile,
    cited_files,
    digest,
    inline_images,
    mime_type_for,
)
from bot.types import Artifact

MAX_ARTIFACTS = 20
_LIST_LIMIT = 100

log = logging.getLogger(__name__)


def containers_used(response: Response, fallback: str | None) -> list[str]:
    """Container ids the response's code ran in (the session's container first)."""
    ids = [fallback] if fallback else []
    for item in response.output:
        if isinstance(item, ResponseCodeInterpreterToolCall) and item.container_id not in ids:
            ids.append(item.container_id)
    return ids


async def produced_files(
    client: openai.AsyncOpenAI, *, container_ids: Sequence[str], since: float
) -> list[CitedFile]:
    """Files the code wrote into the containers at or after ``since`` (epoch seconds)."""
    found: list[CitedFile] = []
    for container_id in container_ids:
        try:
            page = await client.containers.files.list(container_id, order="desc", limit=_LIST_LIMIT)
        except openai.OpenAIError as err:
            log.warning("could not list files of container %s: %s", container_id, err)
            continue
        for entry in page.data:
            if entry.source == "assistant" and entry.created_at >= int(since):
                found.append(CitedFile(container_id, entry.id, posixpath.basename(entry.path)))
    found.reverse()  # oldest first, the order the code wrote them
    return found


async def fetch_artifacts(
    client: openai.AsyncOpenAI,
    *,
    response: Response,
    streamed_citations: Sequence[CitedFile],
    container_id: str | None,
) -> list[Artifact]:
    """Artifacts for a completed response, bytes included; files that fail to download are
    logged and skipped so that the answer itself still arrives."""
    wanted: dict[str, CitedFile] = {}
    for cited in [*cited_files(response), *streamed_citations]:
        wanted.setdefault(cited.file_id, cited)
    extra = await produced_files(
        client,
        container_ids=containers_used(response, container_id),
        since=response.created_at,
    )
    for cited in extra:
        wanted.setdefault(cited.file_id, cited)
    artifacts: list[Artifact] = []
    seen: set[str] = set()
    for cited in list(wanted.values())[:MAX_ARTIFACTS]:
        data = await _download(client, cited)
        key = digest(data) if data is not None else ""
        if data is None or key in seen:
            continue
        seen.add(key)
        name = cited.name or cited.file_id
        artifacts.append(Artifact(name, mime_type_for(name), data, cited.file_id))
    for image in inline_images(response):
        key = digest(image.data)
        if key in seen or len(artifacts) >= MAX_ARTIFACTS:
            continue
        seen.add(key)
        artifacts.append(Artifact(image.name, image.mime_type, image.data, f"inline:{key[:16]}"))
    return artifacts


async def _download(client: openai.AsyncOpenAI, cited: CitedFile) -> bytes | None:
    try:
        content = await client.containers.files.content.retrieve(
            cited.file_id, container_id=cited.container_id
        )
    except openai.OpenAIError as err:
        log.warning("could not download %s from %s: %s", cited.name, cited.container_id, err)
        return None
    return content.content

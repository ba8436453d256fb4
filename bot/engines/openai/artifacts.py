"""Fetch the files a finished response produced (charts, CSVs) as Artifact events.

Sources, in order: ``container_file_citation`` annotations; as a fallback the container's
files written by the code during the turn (``source == "assistant"``, created at or after
the response started), since citations are sometimes missing; and images the code showed
inline (``data:`` URLs in ``code_interpreter_call`` outputs). Duplicates (same container
file, or same bytes) are delivered once.

Every file is bounded before and during its download (``OutputBudget``): the size the
container's file list declares is checked first, so a file over the limits is never
downloaded; the bytes are then counted as they stream to disk, so a file longer than it
declared is cut off. Either way the file comes back as ArtifactWithheld, naming the reason.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import openai
from openai.types.responses import Response, ResponseCodeInterpreterToolCall

from bot.engines.openai.container_files import (
    TooManyBytes,
    safe_suffix,
    save_bytes,
    save_container_file,
)
from bot.engines.openai.stream import (
    CitedFile,
    cited_files,
    digest,
    inline_images,
    mime_type_for,
)
from bot.engines.output_budget import OutputBudget
from bot.types import Artifact, ArtifactWithheld

MAX_ARTIFACTS = 20
_LIST_LIMIT = 100

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedFile:
    """One entry of a container's file list: the file, its declared size, who wrote it."""

    cited: CitedFile
    size: int
    source: str
    created_at: int


def containers_used(response: Response, fallback: str | None) -> list[str]:
    """Container ids the response's code ran in (the session's container first)."""
    ids = [fallback] if fallback else []
    for item in response.output:
        if isinstance(item, ResponseCodeInterpreterToolCall) and item.container_id not in ids:
            ids.append(item.container_id)
    return ids


async def listed_files(
    client: openai.AsyncOpenAI, *, container_ids: Sequence[str]
) -> dict[str, ListedFile]:
    """The newest files of each container (by file id), with the sizes the list declares."""
    found: dict[str, ListedFile] = {}
    for container_id in container_ids:
        try:
            page = await client.containers.files.list(container_id, order="desc", limit=_LIST_LIMIT)
        except openai.OpenAIError as err:
            log.warning("could not list files of container %s: %s", container_id, err)
            continue
        for entry in page.data:
            cited = CitedFile(container_id, entry.id, posixpath.basename(entry.path))
            found[entry.id] = ListedFile(cited, entry.bytes, entry.source, entry.created_at)
    return found


def produced_files(listed: Iterable[ListedFile], *, since: float) -> list[CitedFile]:
    """Files the code wrote at or after ``since`` (epoch seconds), oldest first.

    ``listed`` is in the list's order (newest first), so reversing keeps the order the code
    wrote them in even within one second.
    """
    produced = [f.cited for f in listed if f.source == "assistant" and f.created_at >= int(since)]
    produced.reverse()
    return produced


async def fetch_artifacts(
    client: openai.AsyncOpenAI,
    *,
    response: Response,
    streamed_citations: Sequence[CitedFile],
    container_id: str | None,
    out_dir: Path,
    budget: OutputBudget,
) -> list[Artifact | ArtifactWithheld]:
    """The files of a completed response, saved in ``out_dir``, or withheld with a reason.

    Files that fail to download are logged and skipped so that the answer itself still
    arrives.
    """
    listed = await listed_files(client, container_ids=containers_used(response, container_id))
    wanted: dict[str, CitedFile] = {}
    for cited in [
        *cited_files(response),
        *streamed_citations,
        *produced_files(listed.values(), since=response.created_at),
    ]:
        wanted.setdefault(cited.file_id, cited)
    results: list[Artifact | ArtifactWithheld] = []
    seen: set[str] = set()
    for cited in list(wanted.values())[:MAX_ARTIFACTS]:
        entry = listed.get(cited.file_id)
        size = entry.size if entry is not None else await _declared_size(client, cited)
        result = await _fetch_one(client, cited=cited, size=size, out_dir=out_dir, budget=budget)
        if isinstance(result, tuple):
            artifact, key = result
            if key in seen:
                await asyncio.to_thread(artifact.path.unlink, missing_ok=True)
                continue
            seen.add(key)
            budget.spend(artifact.size)
            results.append(artifact)
        elif result is not None:
            results.append(result)
    for image in inline_images(response):
        key = digest(image.data)
        if key in seen or len(results) >= MAX_ARTIFACTS:
            continue
        seen.add(key)
        file_id = f"inline:{key[:16]}"
        refusal = budget.refusal(len(image.data))
        if refusal is not None:
            reason, limit = refusal
            results.append(
                ArtifactWithheld(image.name, file_id, reason, size=len(image.data), limit=limit)
            )
            continue
        path = await save_bytes(image.data, dest_dir=out_dir, suffix=safe_suffix(image.name))
        budget.spend(len(image.data))
        results.append(Artifact(image.name, image.mime_type, path, len(image.data), file_id))
    return results


async def _fetch_one(
    client: openai.AsyncOpenAI,
    *,
    cited: CitedFile,
    size: int | None,
    out_dir: Path,
    budget: OutputBudget,
) -> tuple[Artifact, str] | ArtifactWithheld | None:
    """The saved file and its digest; ArtifactWithheld when a bound stops it; None when it
    could not be fetched or is empty."""
    name = cited.name or cited.file_id
    refusal = budget.refusal(size)
    if refusal is not None:
        reason, limit = refusal
        log.info("not fetching %s (%s bytes): %s", cited.file_id, size, reason)
        return ArtifactWithheld(name, cited.file_id, reason, size=size, limit=limit)
    if size == 0:
        return None  # nothing to show (and Slack refuses empty uploads)
    try:
        path, received, key = await save_container_file(
            client,
            container_id=cited.container_id,
            file_id=cited.file_id,
            dest_dir=out_dir,
            suffix=safe_suffix(name),
            max_bytes=budget.cap_for(size),
        )
    except TooManyBytes as over:
        reason, limit = budget.overrun(size)
        log.warning(
            "cut off %s after %d bytes (declared %s): %s",
            cited.file_id,
            over.received,
            size,
            reason,
        )
        return ArtifactWithheld(name, cited.file_id, reason, size=size, limit=limit)
    except openai.OpenAIError as err:
        log.warning("could not download %s from %s: %s", cited.file_id, cited.container_id, err)
        return None
    if received == 0:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return None
    return Artifact(name, mime_type_for(name), path, received, cited.file_id), key


async def _declared_size(client: openai.AsyncOpenAI, cited: CitedFile) -> int | None:
    """The size of a cited file the list did not show; None when the container cannot say."""
    try:
        entry = await client.containers.files.retrieve(
            cited.file_id, container_id=cited.container_id
        )
    except openai.OpenAIError as err:
        log.warning("could not read the size of %s: %s", cited.file_id, err)
        return None
    return entry.bytes

"""Deleting our objects at OpenAI: files, containers, conversations and responses.

The SDK's own retries are off here: a deletion the API refuses now (5xx, 429, a timeout) is
reported PENDING and asked again later with back-off by the caller, so that nothing is ever
counted as deleted on a guess. 404 means it is already gone, which is what we wanted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import openai

from bot.engines.objects import Deletion, EngineObject, ObjectKind, Outcome
from bot.engines.openai.errors import error_message_of, retry_after_seconds

log = logging.getLogger(__name__)

OWN_CONTAINER_PREFIX = "insightbot "  # every container we create is named so (sandbox.py)
DELETE_TIMEOUT_S = 30.0
_PARALLEL_DELETES = 4


async def delete_objects(
    client: openai.AsyncOpenAI, objects: Sequence[EngineObject]
) -> list[Deletion]:
    """One Deletion per object, in order; never raises for a single object."""
    quiet = client.with_options(max_retries=0, timeout=DELETE_TIMEOUT_S)
    gate = asyncio.Semaphore(_PARALLEL_DELETES)

    async def one(obj: EngineObject) -> Deletion:
        async with gate:
            return await _delete(quiet, obj)

    return list(await asyncio.gather(*(one(o) for o in objects)))


async def _delete(client: openai.AsyncOpenAI, obj: EngineObject) -> Deletion:
    try:
        match obj.kind:
            case ObjectKind.FILE:
                await client.files.delete(obj.object_id)
            case ObjectKind.CONTAINER:
                await client.containers.delete(obj.object_id)
            case ObjectKind.CONVERSATION:
                await client.conversations.delete(obj.object_id)
            case ObjectKind.RESPONSE:
                await client.responses.delete(obj.object_id)
    except openai.NotFoundError:
        return Deletion(obj, Outcome.GONE)
    except openai.APIStatusError as err:
        detail = f"{err.status_code}: {error_message_of(err)}"
        log.info("deleting %s %s refused for now (%s)", obj.kind, obj.object_id, detail)
        return Deletion(obj, Outcome.PENDING, detail, retry_after_seconds(err))
    except openai.OpenAIError as err:  # connection failures and timeouts
        log.info("deleting %s %s failed for now: %s", obj.kind, obj.object_id, err)
        return Deletion(obj, Outcome.PENDING, type(err).__name__)
    return Deletion(obj, Outcome.DELETED)


async def own_containers(client: openai.AsyncOpenAI) -> list[EngineObject]:
    """Every live container named as ours, oldest first. Raises openai SDK errors."""
    found = []
    async for container in client.containers.list(limit=100, order="asc"):
        if (container.name or "").startswith(
            OWN_CONTAINER_PREFIX
        ) and container.status != "deleted":
            found.append(
                EngineObject(
                    kind=ObjectKind.CONTAINER,
                    object_id=container.id,
                    created_at=float(container.created_at),
                )
            )
    return found

"""Steps 2 and 3 of a turn: which files the turn uses, and getting them into the engine.

Files come from the triggering message, the files remembered for the same thread, the thread's
history (for files shared before the bot was mentioned there), and, only when the thread has no
file at all, the data files most recently shared at the top level of the same channel. Nothing
ever comes from another channel, from inside another thread, or from a DM into a channel.

At most ``max_files_per_thread`` of them are used, chosen before anything is downloaded
(``files_for_turn`` in bot/turn/decisions.py); the others are named in the thread.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from bot import messages
from bot.engines.objects import Owner
from bot.errors import FileProblem, FileUnavailable, UnsupportedFileType
from bot.files import (
    file_record_for,
    inspect_file,
    kind_for,
    record_with_upload,
    safe_display_name,
    sha256_of,
    slack_file_of,
    uploaded_from_record,
)
from bot.governance import AccessPolicy, usable_shares
from bot.lifecycle import upload_is_stale
from bot.services import Services
from bot.slack.download import download_file, refuse_remote
from bot.turn.decisions import choose_channel_files
from bot.types import IncomingMessage, LocalFile, SlackFile, UploadedFile
from storage.records import FileRecord

log = logging.getLogger(__name__)


@dataclass
class CollectedFiles:
    records: list[FileRecord] = field(default_factory=list)  # oldest shared first
    notices: list[str] = field(default_factory=list)  # told to the user before the answer


async def collect_turn_files(
    *, services: Services, message: IncomingMessage, named: Sequence[str], lang: str
) -> CollectedFiles:
    """Every file this turn should use (see the module docstring); no download happens here."""
    store = services.store
    thread_key = message.thread.as_str()
    collected = CollectedFiles(records=await store.thread_files(thread_key))
    is_reply = message.thread.thread_ts != message.ts
    if not collected.records and is_reply:
        # Files shared in this thread before the bot was mentioned (or before a restart).
        for ts, user, file in await services.slack.thread_files(
            channel=message.thread.channel, thread_ts=message.thread.thread_ts
        ):
            await store.save_file(
                file_record_for(thread_key=thread_key, file=file, shared_by=user, shared_ts=ts)
            )
        collected.records = await store.thread_files(thread_key)
    if not collected.records and not message.is_dm:
        candidates = await store.recent_channel_files(
            team=message.thread.team, channel=message.thread.channel, now=time.time()
        )
        picks = choose_channel_files(candidates, named=named)
        for pick in picks:
            await store.save_file(
                file_record_for(
                    thread_key=thread_key,
                    file=slack_file_of(pick),
                    shared_by=pick.shared_by,
                    shared_ts=pick.shared_ts,
                )
            )
        if picks:
            others = sorted({c.name for c in candidates} - {p.name for p in picks})
            collected.notices.append(
                messages.picked_channel_files(
                    lang, [(p.name, p.shared_by, p.shared_ts) for p in picks], others
                )
            )
            collected.records = await store.thread_files(thread_key)
    # Files of people from another organisation are never used while they are denied.
    policy = AccessPolicy.of(services.settings)
    collected.records = usable_shares(
        collected.records, policy=policy, home_teams=message.home_teams
    )
    return collected


async def upload_turn_files(
    *,
    services: Services,
    records: Sequence[FileRecord],
    lang: str,
    owner: Owner | None = None,
) -> tuple[list[UploadedFile], list[str]]:
    """Download what the engine lacks, inspect it, upload it (recorded under ``owner``);
    reuse what is already uploaded and has not expired at the engine.

    Returns the usable files (oldest first) and one message per refused file, in ``lang``.
    """
    uploaded: list[UploadedFile] = []
    problems: list[str] = []
    for record in records:
        try:
            uploaded.append(await _uploaded_file_for(services=services, record=record, owner=owner))
        except FileProblem as problem:
            # The reason names the file: only at DEBUG (file names are the user's words).
            log.info("a file was refused (%s)", type(problem).__name__)
            log.debug("file refused: %s", problem.detail or problem.user_message)
            problems.append(problem.text_for(lang))
    return uploaded, problems


async def _uploaded_file_for(
    *, services: Services, record: FileRecord, owner: Owner | None
) -> UploadedFile:
    # A remembered link to a file outside Slack is refused without asking Slack again; one
    # that files.info reveals (a Slack Connect stub, an old record) is refused just the same.
    if record.is_remote:
        refuse_remote(slack_file_of(record))
    cached = uploaded_from_record(record)
    stale = upload_is_stale(
        record.uploaded_at, now=time.time(), retention_days=services.settings.retention_days
    )
    if cached is not None and not stale:
        return cached
    slack_file = await _resolved_slack_file(services=services, record=record)
    if slack_file.is_remote:
        await services.store.save_file(replace(record, name=slack_file.name, is_remote=True))
        refuse_remote(slack_file)
    kind = kind_for(
        name=slack_file.name, mimetype=slack_file.mimetype, filetype=slack_file.filetype
    )
    if kind is None:
        raise UnsupportedFileType(
            partial(messages.unsupported_file, name=safe_display_name(slack_file.name)),
            file_name=slack_file.name,
        )
    with tempfile.TemporaryDirectory(dir=services.workdir) as scratch:
        path = await download_file(
            session=services.http,
            file=slack_file,
            token=services.bot_token,
            dest_dir=Path(scratch),
            max_bytes=services.settings.max_file_bytes,
            hosts=services.file_hosts,
        )
        # Reading the head and hashing the whole file take real time: keep them off the loop.
        facts = await asyncio.to_thread(
            inspect_file,
            path,
            name=slack_file.name,
            declared_kind=kind,
            max_bytes=services.settings.max_file_bytes,
        )
        digest = await asyncio.to_thread(sha256_of, path)
        local = LocalFile(
            key=slack_file.id,
            name=slack_file.name,
            path=path,
            size=path.stat().st_size,
            sha256=digest,
            facts=facts,
        )
        result = await services.engine.upload_file(local, owner=owner)
    uploaded = replace(record_with_upload(record, local, result), uploaded_at=time.time())
    await services.store.save_file(uploaded)
    return result


async def _resolved_slack_file(*, services: Services, record: FileRecord) -> SlackFile:
    """The file with a download URL (Slack Connect stubs and old records ask files.info), or
    the remote file that files.info reveals, to be refused."""
    if record.url_private_download:
        return slack_file_of(record)
    info = await services.slack.file_info(record.slack_file_id)
    if info is not None and info.is_remote:
        return info
    if info is None or not info.url_private_download:
        name = record.name or record.slack_file_id
        raise FileUnavailable(partial(messages.file_deleted, name=name), file_name=name)
    return info

"""The Slack gateway: every Slack Web API call the bot makes, with our types in and out.

SDK failures become ``bot.errors.SlackProblem`` (raised ``from`` the SDK error). Cosmetic calls
(the thread status, reactions) log and swallow their failures instead: a missing "is
thinking…" line or emoji must never cost a user the answer.

Every text leaves neutralised by the rules of its field (bot/slack/neutralize.py): message
and comment text as mrkdwn, blocks by their types, status lines and titles as plain text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SlackProblem
from bot.slack.client import error_code, slack_errors
from bot.slack.file_hosts import is_remote_file
from bot.slack.neutralize import blocks_for_slack, for_mrkdwn, for_plain
from bot.slack.stream import AnswerStream
from bot.slack.upload import send_upload_body
from bot.types import ChannelState, SlackFile, SlackPerson

__all__ = ["AnswerStream", "AuthInfo", "OutgoingFile", "SlackGateway", "translate_file"]

log = logging.getLogger(__name__)

# Slack shows at most 10 files on one message; more go up as further messages.
FILES_PER_MESSAGE = 10
_REPLIES_PAGE = 200
_FILES_PAGE = 100
_FILES_MAX_PAGES = 10  # a schedule wants the newest files; older pages would not be used
_FILE_GONE = frozenset({"file_not_found", "file_deleted"})
_USER_GONE = frozenset({"user_not_found", "user_not_visible"})
_CHANNEL_GONE = frozenset({"channel_not_found"})
_MEMBER_PAGE = 200  # Slack recommends no more than 200 a page
_MEMBER_PAGES_MAX = 100


@dataclass(frozen=True)
class AuthInfo:
    """Who the bot token belongs to, and what it may do."""

    team_id: str
    bot_user_id: str
    bot_id: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class OutgoingFile:
    """A file (chart, CSV, …) on local disk to upload into a thread; ``size`` bytes long."""

    name: str
    path: Path
    size: int
    title: str | None = None
    alt_text: str | None = None


def translate_file(raw: Mapping[str, Any]) -> SlackFile:
    """A Slack file object (from an event, files.info or conversations.replies) → SlackFile.

    A Slack Connect stub (``mode: file_access`` / ``file_access: check_file_info``) carries no
    URL: ``needs_info`` says to call ``files.info`` first. A remote file (see
    ``is_remote_file``) keeps no URL at all: its ``url_private`` is some other site's address.
    """
    file_id = str(raw["id"])
    size = raw.get("size")
    created = raw.get("created")
    remote = is_remote_file(raw)
    url = None if remote else raw.get("url_private_download") or raw.get("url_private")
    return SlackFile(
        id=file_id,
        name=str(raw.get("name") or raw.get("title") or file_id),
        size=int(size) if isinstance(size, int | float) and not isinstance(size, bool) else None,
        mimetype=str(raw.get("mimetype") or ""),
        filetype=str(raw.get("filetype") or ""),
        url_private_download=str(url) if url else None,
        needs_info=raw.get("mode") == "file_access" or raw.get("file_access") == "check_file_info",
        user=str(raw["user"]) if raw.get("user") else None,
        created=float(created) if isinstance(created, int | float) and created else None,
        is_remote=remote,
        user_team=str(raw["user_team"]) if raw.get("user_team") else None,
    )


class SlackGateway:
    """Every Slack Web API call of the bot. Raises SlackProblem unless a method says otherwise."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        bot_token: str,
        stream_interval_s: float = 1.0,
        update_interval_s: float = 1.5,
    ) -> None:
        self._client = client
        self._token = bot_token
        self._stream_interval_s = stream_interval_s
        self._update_interval_s = update_interval_s

    @property
    def client(self) -> AsyncWebClient:
        """The shared Web API client, for Bolt's ``AsyncApp(client=...)``; call nothing on it."""
        return self._client

    @property
    def bot_token(self) -> str:
        """The bot token, for file downloads (``download_file``). Never log it."""
        return self._token

    async def auth_check(self) -> AuthInfo:
        """Call auth.test; the granted scopes come from its ``x-oauth-scopes`` header."""
        with slack_errors("auth.test"):
            resp = await self._client.auth_test()
        scopes_header = next(
            (value for key, value in resp.headers.items() if key.lower() == "x-oauth-scopes"), ""
        )
        if isinstance(scopes_header, list):  # some transports give header values as lists
            scopes_header = ",".join(scopes_header)
        return AuthInfo(
            team_id=str(resp.get("team_id") or ""),
            bot_user_id=str(resp.get("user_id") or ""),
            bot_id=str(resp.get("bot_id") or ""),
            scopes=frozenset(s.strip() for s in str(scopes_header).split(",") if s.strip()),
        )

    # ------------------------------------------------------------ status and reactions

    async def set_status(
        self,
        *,
        channel: str,
        thread_ts: str,
        status: str,
        loading_messages: Sequence[str] = (),
    ) -> None:
        """Show ``status`` under the thread (assistant.threads.setStatus). Never raises."""
        try:
            await self._client.assistant_threads_setStatus(
                channel_id=channel,
                thread_ts=thread_ts,
                status=for_plain(status),
                # Slack takes at most 10 loading messages of 1 to 50 characters each.
                loading_messages=[for_plain(m)[:50] for m in loading_messages if m][:10] or None,
            )
        except Exception as exc:  # a status line is cosmetic
            log.warning(
                "could not set the thread status in %s/%s: %s",
                channel,
                thread_ts,
                error_code(exc) or type(exc).__name__,
            )

    async def clear_status(self, *, channel: str, thread_ts: str) -> None:
        """Remove the thread's status line. Never raises."""
        await self.set_status(channel=channel, thread_ts=thread_ts, status="")

    async def add_reaction(self, *, channel: str, ts: str, name: str) -> None:
        """Add the emoji ``name`` to a message. Never raises (one already there is fine)."""
        await self._react("reactions.add", channel=channel, ts=ts, name=name)

    async def remove_reaction(self, *, channel: str, ts: str, name: str) -> None:
        """Remove the emoji ``name`` from a message. Never raises (one already gone is fine)."""
        await self._react("reactions.remove", channel=channel, ts=ts, name=name)

    async def _react(self, method: str, *, channel: str, ts: str, name: str) -> None:
        call = (
            self._client.reactions_add
            if method == "reactions.add"
            else self._client.reactions_remove
        )
        try:
            with slack_errors(method, tolerate=("already_reacted", "no_reaction")):
                await call(channel=channel, timestamp=ts, name=name)
        except SlackProblem as problem:  # a reaction is cosmetic, like the status line
            log.warning("could not change reaction %r in %s: %s", name, channel, problem.detail)

    # ------------------------------------------------------------ messages

    async def post_message(
        self,
        *,
        channel: str,
        thread_ts: str | None,
        text: str,
        blocks: Sequence[Mapping[str, Any]] = (),
    ) -> str:
        """Post a message (a reply when ``thread_ts`` is given) and return its ts."""
        with slack_errors("chat.postMessage"):
            resp = await self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=for_mrkdwn(text),
                blocks=blocks_for_slack(blocks) or None,
            )
        return str(resp["ts"])

    async def update_message(
        self, *, channel: str, ts: str, text: str, blocks: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Replace the text and blocks of one of the bot's messages."""
        with slack_errors("chat.update"):
            await self._client.chat_update(
                channel=channel, ts=ts, text=for_mrkdwn(text), blocks=blocks_for_slack(blocks)
            )

    async def post_ephemeral(
        self, *, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None:
        """Show ``text`` to ``user`` only."""
        with slack_errors("chat.postEphemeral"):
            await self._client.chat_postEphemeral(
                channel=channel, user=user, text=for_mrkdwn(text), thread_ts=thread_ts
            )

    async def delete_message(self, *, channel: str, ts: str) -> None:
        """Delete one of the bot's messages; one already gone is fine."""
        with slack_errors("chat.delete", tolerate=("message_not_found",)):
            await self._client.chat_delete(channel=channel, ts=ts)

    async def start_answer(
        self,
        *,
        channel: str,
        thread_ts: str,
        recipient_user_id: str | None,
        recipient_team_id: str | None,
        is_dm: bool,
    ) -> AnswerStream:
        """Return the AnswerStream for a reply in the thread (no call until it has content)."""
        return AnswerStream(
            client=self._client,
            channel=channel,
            thread_ts=thread_ts,
            recipient_user_id=recipient_user_id,
            recipient_team_id=recipient_team_id,
            is_dm=is_dm,
            stream_interval_s=self._stream_interval_s,
            update_interval_s=self._update_interval_s,
        )

    async def resume_answer(self, *, channel: str, thread_ts: str, ts: str) -> AnswerStream:
        """An AnswerStream that finishes into the existing answer message ``ts``."""
        stream = AnswerStream(
            client=self._client,
            channel=channel,
            thread_ts=thread_ts,
            recipient_user_id=None,
            recipient_team_id=None,
            is_dm=True,
            stream_interval_s=self._stream_interval_s,
            update_interval_s=self._update_interval_s,
        )
        stream.adopt(ts)
        return stream

    async def permalink(self, *, channel: str, ts: str) -> str | None:
        """A link to one message (chat.getPermalink); None when Slack gives none."""
        try:
            with slack_errors("chat.getPermalink"):
                resp = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackProblem as problem:  # the link is a convenience; the caller says "above"
            log.warning("no permalink for %s in %s: %s", ts, channel, problem.detail)
            return None
        link = resp.get("permalink")
        return link if isinstance(link, str) and link.startswith("https://") else None

    # ------------------------------------------------------------ files

    async def file_info(self, file_id: str) -> SlackFile | None:
        """Fetch a file's details (files.info); None when it was deleted or is not found.

        A remote file comes back with ``is_remote`` set and no URL.
        """
        resp = None
        with slack_errors("files.info", tolerate=_FILE_GONE):
            resp = await self._client.files_info(file=file_id)
        if resp is None:
            return None
        raw = resp.get("file")
        if not isinstance(raw, Mapping) or raw.get("mode") == "tombstone":
            return None
        return translate_file(raw)

    async def channel_files(self, *, channel: str, since: float) -> list[SlackFile]:
        """Files shared in ``channel`` created at or after ``since`` (files.list), newest
        first: a recurring analysis looks here for the newest file, so files shared while the
        bot was down count. Deleted files are left out; remote ones come with ``is_remote``."""
        found: list[SlackFile] = []
        page = 1
        while True:
            with slack_errors("files.list"):
                resp = await self._client.files_list(
                    channel=channel, ts_from=str(int(since)), count=_FILES_PAGE, page=page
                )
            for raw in resp.get("files") or ():
                if raw.get("mode") != "tombstone":
                    found.append(translate_file(raw))
            paging = resp.get("paging") or {}
            if page >= int(paging.get("pages") or 1) or page >= _FILES_MAX_PAGES:
                break
            page += 1
        return sorted(found, key=lambda f: f.created or 0.0, reverse=True)

    async def user_name(self, user: str) -> str | None:
        """The name a person shows in Slack (display name, else real name; users.info), or
        None when Slack does not say. Never raises."""
        try:
            return (await self.person(user)).name
        except SlackProblem as problem:
            log.info("no name for %s: %s", user, problem.detail)
            return None

    async def thread_files(
        self, *, channel: str, thread_ts: str
    ) -> list[tuple[str, str | None, SlackFile]]:
        """Every file in the thread, oldest first, as (message ts, poster, file).

        Reads conversations.replies page by page (Slack repeats the parent message on every
        page; it is counted once). Deleted files (tombstones) are left out; the bot's own
        uploads are included, with the bot's user id as poster; remote files are included
        with ``is_remote`` set and no URL, so that they can be refused by name.
        """
        found: dict[tuple[str, str], tuple[str, str | None, SlackFile]] = {}
        cursor: str | None = None
        while True:
            with slack_errors("conversations.replies"):
                resp = await self._client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=_REPLIES_PAGE, cursor=cursor
                )
            for message in resp.get("messages") or ():
                ts = str(message["ts"])
                user = message.get("user")
                for raw in message.get("files") or ():
                    if raw.get("mode") != "tombstone":
                        file = translate_file(raw)
                        found[(ts, file.id)] = (ts, str(user) if user else None, file)
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return sorted(found.values(), key=lambda item: float(item[0]))

    async def upload_files(
        self,
        *,
        channel: str,
        thread_ts: str,
        files: Sequence[OutgoingFile],
        initial_comment: str | None = None,
    ) -> list[str]:
        """Upload ``files`` into the thread and return their Slack file ids.

        Slack's external upload steps, each body streamed from disk: files.getUploadURLExternal
        and a POST of the bytes per file, then one files.completeUploadExternal per
        FILES_PER_MESSAGE files, which shares them in one message. ``initial_comment`` goes on
        the first message only.
        """
        # Titles and alt text are shown as typed; the comment is mrkdwn (bot/slack/neutralize).
        files = [_shown_as_typed(f) for f in files]
        initial_comment = for_mrkdwn(initial_comment) if initial_comment else None
        ids: list[str] = []
        for start in range(0, len(files), FILES_PER_MESSAGE):
            batch = files[start : start + FILES_PER_MESSAGE]
            entries: list[dict[str, str | None]] = [
                {"id": await self._send_file(f), "title": f.title or f.name} for f in batch
            ]
            with slack_errors("files.completeUploadExternal"):
                resp = await self._client.files_completeUploadExternal(
                    files=entries,
                    channel_id=channel,
                    thread_ts=thread_ts,
                    initial_comment=initial_comment if start == 0 else None,
                )
            ids.extend(str(f["id"]) for f in resp.get("files") or ())
        return ids

    async def _send_file(self, file: OutgoingFile) -> str:
        """Reserve an upload for ``file`` and send its bytes; return its (pending) file id."""
        with slack_errors("files.getUploadURLExternal"):
            resp = await self._client.files_getUploadURLExternal(
                filename=file.name, length=file.size, alt_txt=file.alt_text
            )
        await send_upload_body(
            session=self._client.session,
            url=str(resp["upload_url"]),
            path=file.path,
            length=file.size,
            proxy=self._client.proxy,
        )
        return str(resp["file_id"])

    # ------------------------------------------------------------ views (App Home, modals)

    async def publish_view(self, *, user: str, view: Mapping[str, Any]) -> None:
        """Show ``view`` (type ``home``) as ``user``'s Home tab of the app (views.publish)."""
        with slack_errors("views.publish"):
            await self._client.views_publish(user_id=user, view=_view_for_slack(view))

    async def open_view(self, *, trigger_id: str, view: Mapping[str, Any]) -> None:
        """Open a modal in answer to a click (views.open; the trigger lives 3 seconds)."""
        with slack_errors("views.open"):
            await self._client.views_open(trigger_id=trigger_id, view=_view_for_slack(view))

    async def set_suggested_prompts(
        self, *, channel: str, prompts: Sequence[tuple[str, str]], title: str | None = None
    ) -> None:
        """Show ``prompts`` ((title, message) pairs) in the person's Messages tab, the DM
        ``channel`` (assistant.threads.setSuggestedPrompts). Raises SlackProblem."""
        # Slack shows up to four. No thread_ts: with agent_view the prompts belong to the
        # Messages tab, and Slack silently ignores a call that names a thread.
        shown = [{"title": for_plain(t), "message": for_plain(m)} for t, m in prompts][:4]
        with slack_errors("assistant.threads.setSuggestedPrompts"):
            await self._client.assistant_threads_setSuggestedPrompts(
                channel_id=channel,
                prompts=shown,
                title=for_plain(title) if title else None,
            )

    async def person(self, user: str) -> SlackPerson:
        """Who ``user`` is (users.info): name, time zone, locale, and whether the account is
        still active — an unknown user is an inactive one. Raises SlackProblem when Slack
        could not be asked."""
        try:
            with slack_errors("users.info"):
                resp = await self._client.users_info(user=user, include_locale=True)
        except SlackProblem as problem:
            if problem.__cause__ is not None and error_code(problem.__cause__) in _USER_GONE:
                return SlackPerson(id=user, active=False)
            raise
        found = resp.get("user") or {}
        profile = found.get("profile") or {}
        name = next(
            (
                n.strip()
                for n in (profile.get("display_name"), found.get("real_name"), found.get("name"))
                if isinstance(n, str) and n.strip()
            ),
            None,
        )
        return SlackPerson(
            id=user,
            active=not found.get("deleted", False),
            name=name,
            tz=_text_or_none(found.get("tz")),
            locale=_text_or_none(found.get("locale")),
            team=_text_or_none(found.get("team_id")),
            is_bot=bool(found.get("is_bot", False)),
        )

    async def is_channel_member(self, *, channel: str, user: str) -> bool:
        """Whether ``user`` is a member of ``channel`` (conversations.members, every page).
        Raises SlackProblem when Slack could not say."""
        cursor: str | None = None
        for _ in range(_MEMBER_PAGES_MAX):
            with slack_errors("conversations.members"):
                resp = await self._client.conversations_members(
                    channel=channel, limit=_MEMBER_PAGE, cursor=cursor
                )
            if user in (resp.get("members") or ()):
                return True
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return False
        raise SlackProblem(detail=f"conversations.members: more than {_MEMBER_PAGES_MAX} pages")

    async def channel_state(self, channel: str) -> ChannelState:
        """Whether ``channel`` is still there and not archived (conversations.info). Raises
        SlackProblem when Slack could not say."""
        try:
            with slack_errors("conversations.info"):
                resp = await self._client.conversations_info(channel=channel)
        except SlackProblem as problem:
            if problem.__cause__ is not None and error_code(problem.__cause__) in _CHANNEL_GONE:
                return ChannelState.GONE
            raise
        found = resp.get("channel") or {}
        return ChannelState.ARCHIVED if found.get("is_archived") else ChannelState.ACTIVE

    async def user_locale(self, user: str) -> str | None:
        """The person's Slack locale (``ko-KR``, ``en-US``, …; users.info), or None when
        Slack does not say (or the users:read scope is missing). Never raises."""
        try:
            return (await self.person(user)).locale
        except SlackProblem as problem:
            log.info("no locale for %s: %s", user, problem.detail)
            return None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _view_for_slack(view: Mapping[str, Any]) -> dict[str, Any]:
    """A view with its blocks neutralised like a message's (titles are the bot's own)."""
    return {**view, "blocks": blocks_for_slack(view.get("blocks") or ())}


def _shown_as_typed(file: OutgoingFile) -> OutgoingFile:
    return replace(
        file,
        title=for_plain(file.title or file.name),
        alt_text=for_plain(file.alt_text) if file.alt_text else None,
    )

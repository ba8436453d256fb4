"""Web API methods of the fake Slack, answering in the shapes of docs.slack.dev.

Each ``m_*`` handler takes the merged request arguments and returns the success body
(without ``ok``) or raises ``ApiError``. Message, stream and block limits follow the method
reference pages (errors such as ``markdown_text_conflict``, ``msg_too_long``,
``missing_recipient_user_id``, ``message_not_in_streaming_state``, ``streaming_state_conflict``).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.fakes.slack_blocks import MAX_BLOCKS, BlocksRejected, check_blocks, parse_blocks
from tests.fakes.slack_files import FileMethods
from tests.fakes.slack_state import (
    ApiError,
    StatusRecord,
    StoredMessage,
    decode_cursor,
    encode_cursor,
    invalid_arguments,
)

MAX_MARKDOWN_TEXT = 12_000
MAX_VIEW_BLOCKS = 100
MAX_SUGGESTED_PROMPTS = 4  # "up to four suggested prompts" (setSuggestedPrompts usage info)
TASK_STATUSES = {"pending", "in_progress", "complete", "error"}
HISTORY_SCOPES = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
# conversations.members and conversations.info read a conversation's facts, not its messages.
READ_SCOPES = {"C": "channels:read", "G": "groups:read", "D": "im:read"}
_READ_METHODS = frozenset({"conversations.members", "conversations.info"})

# Method -> handler name, and the bot scope Slack requires (None: any valid token).
METHODS: dict[str, tuple[str, str | None]] = {
    "auth.test": ("m_auth_test", None),
    "apps.connections.open": ("m_apps_connections_open", None),
    "chat.postMessage": ("m_chat_post_message", "chat:write"),
    "chat.update": ("m_chat_update", "chat:write"),
    "chat.delete": ("m_chat_delete", "chat:write"),
    "chat.postEphemeral": ("m_chat_post_ephemeral", "chat:write"),
    "chat.getPermalink": ("m_chat_get_permalink", None),
    "chat.startStream": ("m_chat_start_stream", "chat:write"),
    "chat.appendStream": ("m_chat_append_stream", "chat:write"),
    "chat.stopStream": ("m_chat_stop_stream", "chat:write"),
    "reactions.add": ("m_reactions_add", "reactions:write"),
    "reactions.remove": ("m_reactions_remove", "reactions:write"),
    "assistant.threads.setStatus": ("m_assistant_set_status", "chat:write"),
    "assistant.threads.setSuggestedPrompts": (
        "m_assistant_set_suggested_prompts",
        "assistant:write",
    ),
    "files.info": ("m_files_info", "files:read"),
    "files.list": ("m_files_list", "files:read"),
    "files.getUploadURLExternal": ("m_files_get_upload_url", "files:write"),
    "files.completeUploadExternal": ("m_files_complete_upload", "files:write"),
    "conversations.replies": ("m_conversations_replies", None),
    "conversations.history": ("m_conversations_history", None),
    "users.info": ("m_users_info", "users:read"),
    "conversations.members": ("m_conversations_members", None),  # scope by channel type
    "conversations.info": ("m_conversations_info", None),  # scope by channel type
    "views.open": ("m_views_open", None),
    "views.publish": ("m_views_publish", None),
}


def blocks_error(e: BlocksRejected) -> ApiError:
    if not e.errors:
        return ApiError(e.error)
    messages = [f"[ERROR] {m}" for m in e.errors]
    return ApiError(
        e.error, extra={"errors": e.errors, "response_metadata": {"messages": messages}}
    )


class WebMethods(FileMethods):
    """The Web API on top of the workspace state."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.socket_tickets: set[str] = set()
        # Block types this workspace refuses with invalid_blocks (a test sets them).
        self.refused_block_types: frozenset[str] = frozenset()

    # -------------------------------------------------------------- auth

    def authorize(self, method: str, token: str | None, args: dict[str, Any]) -> None:
        """Raise ApiError unless the token may call the method (and holds its scope)."""
        if not token:
            raise ApiError("not_authed")
        if method == "apps.connections.open":
            if token == self.app_token:
                return
            raise ApiError(
                "invalid_auth" if token.startswith("xapp-") else "not_allowed_token_type"
            )
        if token != self.bot_token:
            raise ApiError(
                "not_allowed_token_type" if token.startswith("xapp-") else "invalid_auth"
            )
        needed = METHODS[method][1]
        if method in _READ_METHODS:
            needed = READ_SCOPES.get(str(args.get("channel", ""))[:1], "channels:read")
        elif method.startswith("conversations."):
            needed = HISTORY_SCOPES.get(str(args.get("channel", ""))[:1], "channels:history")
        if method == "assistant.threads.setStatus" and "assistant:write" in self.scopes:
            return
        if needed and needed not in self.scopes:
            raise ApiError(
                "missing_scope", extra={"needed": needed, "provided": ",".join(self.scopes)}
            )

    def m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"{self.base_url}/",
            "team": self.team_name,
            "user": "insightbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        ticket = uuid.uuid4().hex
        self.socket_tickets.add(ticket)
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return {"url": f"{ws_base}/link/?ticket={ticket}&app_id={self.app_id}"}

    # ----------------------------------------------------------- messages

    def _channel(self, args: dict[str, Any], key: str = "channel") -> str:
        channel = args.get(key)
        if not channel:
            raise ApiError("channel_not_found")
        if channel in self.bot_not_in:
            raise ApiError("not_in_channel")
        return str(channel)

    def _content(self, args: dict[str, Any], *, required: bool = True) -> tuple[str, list[Any]]:
        """(text, blocks) of a chat.postMessage/update body, checked like Slack."""
        text = args.get("text")
        markdown = args.get("markdown_text")
        try:
            blocks = parse_blocks(args.get("blocks"))
            check_blocks(blocks, refused_types=self.refused_block_types)
        except BlocksRejected as e:
            raise blocks_error(e) from e
        if markdown is not None and (text is not None or blocks):
            raise ApiError("markdown_text_conflict")
        if markdown is not None:
            if len(markdown) > MAX_MARKDOWN_TEXT:
                raise ApiError("msg_too_long")
            return str(markdown), []
        if required and not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        text = str(text or "")
        if len(text) > self.max_text_chars:
            raise ApiError("msg_too_long")
        return text, blocks

    def _own_message(self, args: dict[str, Any], *, not_own: str) -> StoredMessage:
        channel = self._channel(args)
        found = self.find_message(channel, str(args.get("ts", "")))
        if found is None:
            raise ApiError("message_not_found")
        if not found.bot:
            raise ApiError(not_own)
        return found

    def m_chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if channel[:1] in ("U", "W"):  # a user id posts in the bot's DM with them
            if channel not in self.users or self.users[channel].get("deleted"):
                raise ApiError("user_not_found" if channel not in self.users else "user_disabled")
            channel = self.dm_channel_of(channel)
        if channel in self.archived:
            raise ApiError("is_archived")
        text, blocks = self._content(args)
        message = StoredMessage(
            channel=channel,
            ts=self.next_ts(),
            text=text,
            bot=True,
            user=self.bot_user_id,
            thread_ts=args.get("thread_ts") or None,
            blocks=blocks,
            metadata=_json_arg(args.get("metadata")),
        )
        self._store(message)
        return {"channel": channel, "ts": message.ts, "message": self.render_message(message)}

    def m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(args, not_own="cant_update_message")
        if message.stream_state == "streaming":
            raise ApiError("streaming_state_conflict")
        text, blocks = self._content(args, required=False)
        if "text" in args or "markdown_text" in args:
            message.text = text
        if "blocks" in args or "markdown_text" in args:
            message.blocks = blocks
        if message.stream_state is not None and "blocks" in args:
            # An update replaces a stopped stream's content, as in Slack's clients.
            message.stream_state = "updated"
        message.edited_ts = self.next_ts()
        rendered = self.render_message(message)
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": rendered,
        }

    def m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(args, not_own="cant_delete_message")
        self.remove_message(message)
        return {"channel": message.channel, "ts": message.ts}

    def m_chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if not args.get("user"):
            raise ApiError("user_not_in_channel")
        text, blocks = self._content(args)
        ts = self.next_ts()
        self.ephemeral_messages.append(
            {
                "channel": channel,
                "user": args["user"],
                "text": text,
                "blocks": blocks,
                "thread_ts": args.get("thread_ts"),
                "message_ts": ts,
            }
        )
        return {"message_ts": ts}

    def m_chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        """docs.slack.dev/reference/methods/chat.getPermalink: a thread reply's link carries
        ``thread_ts`` and ``cid``; no scope is needed."""
        channel = self._channel(args)
        found = self.find_message(channel, str(args.get("message_ts", "")))
        if found is None:
            raise ApiError("message_not_found")
        link = f"https://fake-workspace.slack.com/archives/{channel}/p{found.ts.replace('.', '')}"
        if found.thread_ts and found.thread_ts != found.ts:
            link += f"?thread_ts={found.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    # ---------------------------------------------------------- streaming

    def m_chat_start_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if not args.get("thread_ts"):
            raise invalid_arguments("missing required field: thread_ts")
        if not self.streaming_enabled:
            raise ApiError(self.streaming_disabled_error)
        if channel[:1] in ("C", "G"):
            # "Required when streaming to channels" (chat.startStream reference).
            if not args.get("recipient_team_id"):
                raise ApiError("missing_recipient_team_id")
            if not args.get("recipient_user_id"):
                raise ApiError("missing_recipient_user_id")
        message = StoredMessage(
            channel=channel,
            ts=self.next_ts(),
            bot=True,
            user=self.bot_user_id,
            thread_ts=str(args["thread_ts"]),
            stream_state="streaming",
            stream_started=time.monotonic(),
        )
        self._apply_stream_args(message, args)
        self._store(message)
        return {"channel": channel, "ts": message.ts}

    def _streaming_message(self, args: dict[str, Any]) -> StoredMessage:
        message = self._own_message(args, not_own="message_not_owned_by_app")
        expiry = self.stream_expiry_s
        if (
            message.stream_state == "streaming"
            and expiry is not None
            and time.monotonic() - message.stream_started > expiry
        ):
            message.stream_state = "expired"
        if message.stream_state != "streaming":
            raise ApiError("message_not_in_streaming_state")
        return message

    def m_chat_append_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        if not args.get("markdown_text") and not args.get("chunks"):
            raise ApiError("no_text")
        self._apply_stream_args(message, args)
        return {"channel": message.channel, "ts": message.ts}

    def m_chat_stop_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        try:
            final_blocks = parse_blocks(args.get("blocks"))
            if len(final_blocks) > MAX_BLOCKS:
                raise ApiError("msg_blocks_too_many")  # chat.stopStream's own error for this
            check_blocks(final_blocks, refused_types=self.refused_block_types)
        except BlocksRejected as e:
            raise blocks_error(e) from e
        self._apply_stream_args(message, args)
        message.blocks.extend(final_blocks)
        message.metadata = _json_arg(args.get("metadata")) or message.metadata
        message.stream_state = "stopped"
        return {
            "channel": message.channel,
            "ts": message.ts,
            "message": self.render_message(message),
        }

    def _apply_stream_args(self, message: StoredMessage, args: dict[str, Any]) -> None:
        """Check all text and chunks first, then apply them (a refused call changes nothing)."""
        markdown = args.get("markdown_text")
        if markdown is not None and len(str(markdown)) > MAX_MARKDOWN_TEXT:
            raise ApiError("msg_too_long")
        chunks = _json_arg(args.get("chunks")) or []
        if not isinstance(chunks, list):
            raise ApiError("invalid_chunks")
        for chunk in chunks:
            _check_chunk(chunk)
        if markdown:
            message.text += str(markdown)
        for chunk in chunks:
            message.chunks.append(chunk)
            kind = chunk["type"]
            if kind == "markdown_text":
                message.text += chunk["text"]
            elif kind == "task_update":
                message.tasks.setdefault(chunk["id"], {}).update(chunk)
            elif kind == "plan_update":
                message.plan_title = chunk["title"]
            elif kind == "blocks":
                message.blocks.extend(chunk["blocks"])

    # ---------------------------------------------------- reactions, status

    def _reaction_target(self, args: dict[str, Any]) -> tuple[StoredMessage, str]:
        channel = self._channel(args)
        name = str(args.get("name") or "").strip(":")
        if not args.get("timestamp"):
            raise ApiError("no_item_specified")
        if not name:
            raise ApiError("invalid_name")
        found = self.find_message(channel, str(args["timestamp"]))
        if found is None:
            raise ApiError("message_not_found")
        return found, name

    def m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        message, name = self._reaction_target(args)
        users = message.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise ApiError("already_reacted")
        users.append(self.bot_user_id)
        return {}

    def m_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        message, name = self._reaction_target(args)
        users = message.reactions.get(name, [])
        if self.bot_user_id not in users:
            raise ApiError("no_reaction")
        users.remove(self.bot_user_id)
        if not users:
            del message.reactions[name]
        return {}

    def m_assistant_set_status(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args, "channel_id")
        thread_ts = args.get("thread_ts")
        if not thread_ts:
            raise ApiError("invalid_thread_ts")
        if "status" not in args:
            raise invalid_arguments("missing required field: status")
        loading = _json_arg(args.get("loading_messages")) or []
        if not isinstance(loading, list) or len(loading) > 10:
            raise invalid_arguments(
                "no more than 10 items allowed [json-pointer:/loading_messages]"
            )
        if any(not isinstance(m, str) or not 1 <= len(m) <= 50 for m in loading):
            raise invalid_arguments("loading_messages items must be 1 to 50 characters")
        record = StatusRecord(
            status=str(args["status"]), loading_messages=loading, time=time.time()
        )
        self.record_status(channel, str(thread_ts), record)
        return {}

    def m_assistant_set_suggested_prompts(self, args: dict[str, Any]) -> dict[str, Any]:
        """docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts: channel_id
        and prompts (each with title and message, up to four) required, title optional. With
        agent_view a call naming thread_ts "silently fails": ok, and nothing changes."""
        channel = self._channel(args, "channel_id")
        prompts = _json_arg(args.get("prompts"))
        if not isinstance(prompts, list) or not prompts:
            raise invalid_arguments("missing required field: prompts")
        if len(prompts) > MAX_SUGGESTED_PROMPTS:
            raise invalid_arguments("no more than 4 items allowed [json-pointer:/prompts]")
        for prompt in prompts:
            if not isinstance(prompt, dict) or not all(
                isinstance(prompt.get(k), str) and prompt[k].strip() for k in ("title", "message")
            ):
                raise invalid_arguments("each prompt needs a title and a message")
        title = args.get("title")
        if title is not None and not isinstance(title, str):
            raise invalid_arguments("title must be a string")
        if args.get("thread_ts") and self.agent_view:
            return {}
        self.suggested_prompts[channel] = {"title": title, "prompts": prompts}
        return {}

    # ------------------------------------------------------- conversations

    def m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        parent = self.find_message(channel, str(args.get("ts", "")))
        if parent is None:
            raise ApiError("thread_not_found")
        replies = [
            m for m in self.messages_in(channel) if m.thread_ts == parent.ts and m is not parent
        ]
        replies = _between(replies, args)
        page, more, cursor = self._page(replies, args)
        with_parent = self.replies_repeat_parent or not args.get("cursor")
        messages = ([parent] if with_parent else []) + page
        return {
            "messages": [self.render_message(m) for m in messages],
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }

    def m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        top = [m for m in self.messages_in(channel) if m.thread_ts is None or m.thread_ts == m.ts]
        newest_first = list(reversed(_between(top, args)))
        page, more, cursor = self._page(newest_first, args)
        return {
            "messages": [self.render_message(m) for m in page],
            "has_more": more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _page(
        self, items: list[StoredMessage], args: dict[str, Any]
    ) -> tuple[list[StoredMessage], bool, str]:
        limit = int(args.get("limit") or 1000)
        if self.history_limit_cap is not None:
            limit = min(limit, self.history_limit_cap)
        start = decode_cursor(str(args["cursor"])) if args.get("cursor") else 0
        page = items[start : start + limit]
        more = start + limit < len(items)
        return page, more, encode_cursor(start + limit) if more else ""

    def m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user", ""))
        if user_id == self.bot_user_id and user_id not in self.users:
            self.add_user(user_id, name="insightbot", real_name="insightbot", is_bot=True)
        if user_id not in self.users:
            raise ApiError("user_not_found")
        user = dict(self.users[user_id])
        if str(args.get("include_locale", "")).lower() not in ("1", "true"):
            user.pop("locale", None)  # only given when asked for
        return {"user": user}

    def m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """docs.slack.dev/reference/methods/conversations.members: user ids, cursor-paged."""
        channel = str(args.get("channel") or "")
        if not channel or channel in self.deleted_channels:
            raise ApiError("channel_not_found")
        members = self.members_of(channel)
        limit = int(args.get("limit") or 100)
        start = decode_cursor(str(args["cursor"])) if args.get("cursor") else 0
        page = members[start : start + limit]
        more = start + limit < len(members)
        return {
            "members": page,
            "response_metadata": {"next_cursor": encode_cursor(start + limit) if more else ""},
        }

    def m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """docs.slack.dev/reference/methods/conversations.info: the conversation object."""
        channel = str(args.get("channel") or "")
        if not channel or channel in self.deleted_channels:
            raise ApiError("channel_not_found")
        is_private = channel[:1] == "G"
        return {
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": channel[:1] == "C",
                "is_group": is_private,
                "is_im": channel[:1] == "D",
                "is_private": is_private,
                "is_archived": channel in self.archived,
                "is_general": False,
                "is_member": channel not in self.bot_not_in,
                "created": 1_700_000_000,
                "creator": "U0CREATOR",
                "context_team_id": self.team_id,
            }
        }

    def m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = _json_arg(args.get("view"))
        if not args.get("trigger_id") or not isinstance(view, dict):
            raise invalid_arguments("missing required field: trigger_id or view")
        opened = {
            "id": f"V{uuid.uuid4().hex[:10].upper()}",
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "state": {"values": {}},
            "hash": uuid.uuid4().hex[:16],
            **view,
        }
        self.views.append(opened)
        return {"view": opened}

    def m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """Publish a Home tab (docs.slack.dev/reference/methods/views.publish)."""
        view = _json_arg(args.get("view"))
        user_id = str(args.get("user_id") or "")
        if not user_id or not isinstance(view, dict):
            raise invalid_arguments("missing required field: user_id or view")
        if view.get("type") != "home":
            raise ApiError("invalid_arguments")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or len(blocks) > MAX_VIEW_BLOCKS:
            raise invalid_arguments("no more than 100 items allowed [json-pointer:/view/blocks]")
        try:
            check_blocks(blocks, limit=MAX_VIEW_BLOCKS)
        except BlocksRejected as e:
            raise blocks_error(e) from e
        published = {
            "id": f"V{uuid.uuid4().hex[:10].upper()}",
            "team_id": self.team_id,
            "type": "home",
            "blocks": blocks,
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": uuid.uuid4().hex[:16],
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        self.home_views[user_id] = published
        return {"view": published}


def _json_arg(value: Any) -> Any:
    """An argument that is JSON in a JSON body but a JSON string in form or query bodies."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError as e:
            raise invalid_arguments("invalid JSON") from e
    return value


def _check_chunk(chunk: Any) -> None:
    if not isinstance(chunk, dict):
        raise ApiError("invalid_chunks")
    kind = chunk.get("type")
    if kind == "markdown_text":
        if not isinstance(chunk.get("text"), str):
            raise ApiError("invalid_chunks")
        if len(chunk["text"]) > MAX_MARKDOWN_TEXT:
            raise ApiError("msg_too_long")
    elif kind == "task_update":
        if (
            not chunk.get("id")
            or not chunk.get("title")
            or chunk.get("status") not in TASK_STATUSES
        ):
            raise ApiError("invalid_chunks")
    elif kind == "plan_update":
        if not isinstance(chunk.get("title"), str):
            raise ApiError("invalid_chunks")
    elif kind == "blocks":
        try:
            check_blocks(parse_blocks(chunk.get("blocks")))
        except BlocksRejected as e:
            raise blocks_error(e) from e
    else:
        raise ApiError("invalid_chunks")


def _between(messages: list[StoredMessage], args: dict[str, Any]) -> list[StoredMessage]:
    """Apply ``oldest``/``latest``/``inclusive`` like conversations.history/replies."""
    oldest = float(args["oldest"]) if args.get("oldest") else None
    latest = float(args["latest"]) if args.get("latest") else None
    inclusive = str(args.get("inclusive", "0")).lower() in ("1", "true")
    kept = []
    for m in messages:
        ts = float(m.ts)
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            continue
        if latest is not None and (ts > latest or (ts == latest and not inclusive)):
            continue
        kept.append(m)
    return kept

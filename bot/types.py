"""Our own small types, shared by the turn, the engine and the Slack gateway.

No SDK type crosses these: gateways translate Slack and OpenAI objects into these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

# ---------------------------------------------------------------- files


@dataclass(frozen=True)
class FileFacts:
    """What we learned by looking at a file's bytes (never changing them).

    ``kind`` is one of: csv, tsv, txt, xlsx, xls, json, parquet, image.
    ``encoding``/``delimiter`` are set for delimited text (csv, tsv, txt).
    """

    kind: str
    mime_type: str
    encoding: str | None = None
    delimiter: str | None = None
    note: str | None = None  # e.g. "ragged rows: 3 lines have more fields than the header"

    def describe(self, name: str) -> str:
        """One line for the model, e.g. ``sales.csv: csv, cp949, delimiter ';'``."""
        parts = [f"{name}: {self.kind}"]
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter:
            shown = "\\t" if self.delimiter == "\t" else self.delimiter
            parts.append(f"delimiter '{shown}'")
        if self.note:
            parts.append(self.note)
        return ", ".join(parts)


@dataclass(frozen=True)
class LocalFile:
    """A user's file on local disk, ready to go to the engine.

    ``key`` identifies the source (a Slack file id, or a path digest for the terminal) so that
    a file already uploaded for a thread is not uploaded again.
    """

    key: str
    name: str
    path: Path
    size: int
    sha256: str
    facts: FileFacts


@dataclass(frozen=True)
class UploadedFile:
    """A file the engine holds (engine file id), plus where it sits in the thread's sandbox."""

    key: str
    name: str
    file_id: str
    size: int
    sha256: str
    facts: FileFacts
    container_path: str | None = None
    upload_name: str | None = None  # the name it travelled under, e.g. "data.tsv.zip"


# ---------------------------------------------------------------- engine session


@dataclass(frozen=True)
class Session:
    """The engine-side state of one thread: conversation + sandbox container + file paths."""

    conversation_id: str
    container_id: str | None = None
    memory_limit: str | None = None
    file_paths: dict[str, str] = field(default_factory=dict)  # engine file id -> container path
    left_out: tuple[str, ...] = ()  # names of files that did not fit in the container
    # Where the Hangul font sits in the sandbox; None when it could not be put there (the
    # model then keeps chart labels in English). Not stored: found again in a live container.
    font_path: str | None = None


@dataclass(frozen=True)
class PastTurn:
    """An earlier question and answer, for the summary that seeds a replacement conversation."""

    question: str
    answer: str


@dataclass(frozen=True)
class Usage:
    """Tokens one run used, as the engine reports them. Cached tokens are part of
    ``input_tokens`` and reasoning tokens part of ``output_tokens`` (each is priced once)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(frozen=True)
class TurnCost:
    """What one answered turn cost. ``token_usd`` is None when the model's price is unknown
    (never guessed as zero); the container figures are estimates (None: no sandbox to bill)."""

    model: str | None = None
    token_usd: float | None = 0.0
    container_id: str | None = None
    container_minutes: float | None = None
    container_usd: float | None = None


@dataclass(frozen=True)
class RunOptions:
    """How one run is asked for beyond its question: the model (a channel may have its own;
    None: the engine's default) and what the organisation's own dashboards attribute it by."""

    model: str | None = None
    safety_identifier: str | None = None  # a hash of the asker, never the Slack id itself
    metadata: tuple[
        tuple[str, str], ...
    ] = ()  # e.g. (("slack_team", "T1"), ("slack_channel", "C1"))


# ---------------------------------------------------------------- engine events
# Every event may carry ``sequence``: the engine's stream cursor, to be stored for resumption.


@dataclass(frozen=True)
class RunStarted:
    response_id: str
    request_id: str | None = None
    sequence: int | None = None


@dataclass(frozen=True)
class ConversationReplaced:
    """The stored conversation could not continue; a new one (seeded with a summary) replaced it."""

    conversation_id: str
    sequence: int | None = None


@dataclass(frozen=True)
class CodeStarted:
    item_id: str
    sequence: int | None = None


@dataclass(frozen=True)
class CodeDelta:
    item_id: str
    delta: str
    sequence: int | None = None


@dataclass(frozen=True)
class CodeDone:
    item_id: str
    code: str
    sequence: int | None = None


@dataclass(frozen=True)
class CodeRunning:
    item_id: str
    sequence: int | None = None


@dataclass(frozen=True)
class CodeOutput:
    item_id: str
    logs: str
    sequence: int | None = None


@dataclass(frozen=True)
class TextDelta:
    delta: str
    sequence: int | None = None


@dataclass(frozen=True)
class Artifact:
    """A file the code produced (chart, CSV, …), saved on local disk at ``path``.

    ``size`` is the number of bytes counted while saving it. The file lives in the directory
    the caller gave the engine run, and goes away with it.
    """

    name: str
    mime_type: str
    path: Path
    size: int
    file_id: str
    sequence: int | None = None


# Why a produced file was not delivered (ArtifactWithheld.reason).
OVER_FILE_LIMIT = "file_limit"  # larger than the per-file limit: never downloaded
OVER_TURN_LIMIT = "turn_limit"  # would take the answer's files past the per-turn total
LONGER_THAN_DECLARED = "size_mismatch"  # more bytes arrived than the sandbox declared


@dataclass(frozen=True)
class ArtifactWithheld:
    """A file the code produced that is not delivered, and why (one of the reasons above).

    ``size`` is what the sandbox declared (None when unknown); ``limit`` the bound it broke.
    """

    name: str
    file_id: str
    reason: str
    size: int | None
    limit: int
    sequence: int | None = None


@dataclass(frozen=True)
class Finished:
    """The run completed. ``text`` is the whole answer with sandbox links rewritten."""

    text: str
    usage: Usage
    code: tuple[str, ...] = ()
    sequence: int | None = None
    model: str | None = None  # the model that answered, as the engine names it (for its price)


class FailureCode(StrEnum):
    """Why a turn did not end with an answer: stored as the turn's ``error``, one word each.

    Every failure the bot records is one of these; ``Failed.reason`` keeps an engine's own
    finer code (``max_output_tokens``, ``server_error``) for the logs.
    """

    # the turn's own steps
    NO_FILES = "no_files"  # no data file in the thread or the channel
    NO_USABLE_FILES = "no_usable_files"  # every file was refused
    TIMEOUT = "timeout"  # ran past INSIGHTBOT_RUN_TIMEOUT_S
    STOPPED = "stopped"  # someone pressed Stop
    OUTCOME_UNKNOWN = "outcome_unknown"  # a run may exist but its id was never seen
    NOT_RESUMABLE = "not_resumable"  # the engine no longer has the run
    UNREADABLE = "unreadable"  # the stored message could not be read back
    NO_OUTCOME = "no_outcome"  # the run's events ended without an answer or a failure
    FILE_PROBLEM = "file_problem"
    SLACK_REFUSED = "slack_refused"
    STORAGE = "storage"
    CRASHED = "crashed"  # an error nobody expected
    KERNEL_FAILED = "kernel_failed"  # the local engine's sandboxed Python would not start
    # admission
    QUESTION_TOO_LONG = "question_too_long"
    TOO_MANY_WAITING = "too_many_waiting"
    NOT_ALLOWED = "not_allowed"  # outside the access lists, or the channel is switched off
    EXTERNAL_USER = "external_user"  # a person from another organisation (Slack Connect)
    BUDGET_EXHAUSTED = "budget_exhausted"  # a daily or monthly budget is used up
    UNKNOWN_PRICE = "unknown_price"  # budgets are set but the model has no known price
    # the engine
    RATE_LIMITED = "rate_limited"
    INSUFFICIENT_QUOTA = "insufficient_quota"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    UNAVAILABLE = "unavailable"
    CONTAINER_EXPIRED = "container_expired"
    ENGINE_ERROR = "engine_error"
    RESPONSE_FAILED = "response_failed"
    INCOMPLETE = "incomplete"
    CANCELLED = "cancelled"
    STREAM_LOST = "stream_lost"


@dataclass(frozen=True)
class Failed:
    """The run ended without an answer, told as data: the turn words it from the catalogue
    in the asker's language (``messages.run_failed(lang, code, reason, detail)``).

    ``message`` is the same in English, for logs; ``reason`` is the engine's own finer code
    when it gave one (``server_error``, ``max_output_tokens``); ``detail`` the server's own
    words that the asker is shown (a failed response's message, a refused request's reason).
    """

    message: str
    code: FailureCode = FailureCode.ENGINE_ERROR
    retryable: bool = False
    partial_text: str = ""
    sequence: int | None = None
    reason: str | None = None
    detail: str | None = None


EngineEvent = (
    RunStarted
    | ConversationReplaced
    | CodeStarted
    | CodeDelta
    | CodeDone
    | CodeRunning
    | CodeOutput
    | TextDelta
    | Artifact
    | ArtifactWithheld
    | Finished
    | Failed
)

# ---------------------------------------------------------------- Slack side


@dataclass(frozen=True)
class ThreadKey:
    """One Slack thread: (team, channel, thread_ts). The team comes from the envelope."""

    team: str
    channel: str
    thread_ts: str

    def as_str(self) -> str:
        return f"{self.team}:{self.channel}:{self.thread_ts}"

    @classmethod
    def parse(cls, text: str) -> ThreadKey:
        team, channel, thread_ts = text.split(":", 2)
        return cls(team=team, channel=channel, thread_ts=thread_ts)


@dataclass(frozen=True)
class SlackFile:
    """A file as Slack describes it on a message (translated from the event or files.info)."""

    id: str
    name: str
    size: int | None = None
    mimetype: str = ""
    filetype: str = ""
    url_private_download: str | None = None
    needs_info: bool = False  # a Slack Connect stub (file_access: check_file_info)
    user: str | None = None
    created: float | None = None
    # A link to a file stored outside Slack (Google Drive, …): never downloaded, and no URL kept.
    is_remote: bool = False
    user_team: str | None = None  # the sharer's workspace (another organisation's in Slack Connect)


@dataclass(frozen=True)
class SlackPerson:
    """A person as users.info describes them. ``active`` is False for a deactivated account
    (or one Slack no longer knows)."""

    id: str
    active: bool
    name: str | None = None
    tz: str | None = None  # IANA, like "Asia/Seoul"
    locale: str | None = None
    team: str | None = None
    is_bot: bool = False


class ChannelState(StrEnum):
    """What conversations.info says of a channel."""

    ACTIVE = "active"
    ARCHIVED = "archived"
    GONE = "gone"  # deleted, or the bot can no longer see it


@dataclass(frozen=True)
class IncomingMessage:
    """A user message the bot should answer, parsed from a Slack event."""

    thread: ThreadKey
    ts: str
    user: str
    text: str
    files: tuple[SlackFile, ...] = ()
    channel_type: str = "channel"  # channel, group, im, mpim
    is_mention: bool = False
    event_id: str | None = None
    named_files: tuple[str, ...] = ()  # file names the question mentions ("use sales.csv")
    cut_short: bool = False  # the text was longer than the bot reads: too long by any measure
    user_team: str | None = None  # the asker's workspace, when the event names it
    enterprise: str | None = None  # the installation's Enterprise Grid org, if any
    scheduled: bool = False  # a recurring analysis's run (bot/scheduler.py), not a person's

    @property
    def home_teams(self) -> frozenset[str]:
        """The teams whose people are not external: the bot's own workspace and its org."""
        return frozenset(t for t in (self.thread.team, self.enterprise) if t)

    @property
    def is_dm(self) -> bool:
        return self.channel_type == "im"

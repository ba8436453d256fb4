"""Plain records that the store reads and writes. No SQLite here: bot/ imports these freely."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

# Turn statuses, in the order a turn normally moves through them.
RECEIVED = "received"  # the message is stored; nothing has run yet
QUEUED = "queued"  # waiting for its thread or for a free engine slot
RUNNING = "running"  # the engine run is (or may be) in progress
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
REFUSED = "refused"  # never run: access, budgets, fair-use limits, or too long a question
FINISHED_STATUSES = frozenset({DONE, FAILED, CANCELLED, REFUSED})


@dataclass(frozen=True)
class ThreadRecord:
    key: str  # ThreadKey.as_str()
    team: str
    channel: str
    thread_ts: str
    conversation_id: str | None = None
    container_id: str | None = None
    memory_limit: str | None = None
    file_paths: dict[str, str] = field(default_factory=dict)  # engine file id -> container path
    bot_answered: bool = False  # later replies in this thread need no mention
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(frozen=True)
class FileRecord:
    """A file shared in a thread; engine fields are set once it is uploaded for that thread."""

    thread_key: str
    slack_file_id: str
    name: str
    size: int | None = None
    mimetype: str = ""
    filetype: str = ""
    url_private_download: str | None = None
    shared_by: str | None = None
    shared_ts: str | None = None  # ts of the message that carried it
    sha256: str | None = None
    kind: str | None = None
    mime_type: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    note: str | None = None
    engine_file_id: str | None = None
    container_path: str | None = None
    upload_name: str | None = None
    created_at: float = 0.0
    is_remote: bool = False  # a link to a file stored outside Slack: never downloaded
    shared_by_team: str | None = None  # the sharer's workspace (Slack Connect: another org's)
    uploaded_at: float | None = None  # when ``engine_file_id`` was uploaded (it expires there)


@dataclass(frozen=True)
class ChannelFileRecord:
    """A data file shared at the top level of a channel (never a thread reply, never a DM)."""

    team: str
    channel: str
    slack_file_id: str
    name: str
    size: int | None
    mimetype: str
    filetype: str
    url_private_download: str | None
    shared_by: str | None
    shared_ts: str  # ts of the top-level message
    expires_at: float
    is_remote: bool = False  # a link to a file stored outside Slack: never downloaded
    shared_by_team: str | None = None  # the sharer's workspace (Slack Connect: another org's)


@dataclass(frozen=True)
class TurnRecord:
    id: str
    thread_key: str
    message_ts: str
    user: str
    question: str
    attempt: int = 1
    status: str = RECEIVED
    message_json: str = "{}"  # the IncomingMessage, so a restart can run it again
    response_id: str | None = None
    last_sequence: int | None = None
    answer_ts: str | None = None  # Slack ts of the answer message (or stream)
    status_ts: str | None = None  # Slack ts of the in-progress message (Stop button)
    posted_artifacts: tuple[str, ...] = ()  # engine file ids already uploaded to Slack
    code: tuple[str, ...] = ()
    answer_text: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    finished_at: float | None = None
    code_posted_ts: str | None = None  # Slack ts of the first "Show code" message, once posted
    # The engine was asked to create the run: one may exist even while no response id is stored.
    run_requested: bool = False
    answer_parts: tuple[int, ...] = ()  # continuation messages of the answer already posted
    channel: str = ""  # the thread's channel (a copy of thread_key's, for reports and budgets)
    # Usage beyond input_tokens/output_tokens: cached input is part of input, reasoning part
    # of output. cost_usd is the tokens' price; None when the model's price is unknown.
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    model: str | None = None
    cost_usd: float | None = 0.0
    container_id: str | None = None  # the sandbox the run used
    container_minutes: float | None = None  # an estimate (see bot/governance/pricing.py)
    container_usd: float | None = None  # an estimate, from container_minutes

    @property
    def total_usd(self) -> float | None:
        """Tokens and estimated sandbox time together; None when the tokens' price is unknown."""
        if self.cost_usd is None:
            return None
        return self.cost_usd + (self.container_usd or 0.0)


@dataclass(frozen=True)
class ChannelSetting:
    """What admins set for one channel; None means "as the global settings say"."""

    channel: str
    enabled: bool | None = None  # False switches the bot off there (never on outside the lists)
    model: str | None = None
    daily_usd: float | None = None
    updated_by: str | None = None
    updated_at: float = 0.0


@dataclass(frozen=True)
class UsageRow:
    """Turns grouped by one key (a user, a channel, a day or a model) over a period.

    ``cost_usd`` adds up tokens and estimated sandbox time of the turns whose price is known;
    ``unknown_cost_turns`` counts those whose price was unknown (never counted as zero).
    """

    key: str
    turns: int = 0
    answered: int = 0
    failed: int = 0
    refused: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    container_usd: float = 0.0  # estimated, and part of cost_usd
    unknown_cost_turns: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0


class Taken(IntEnum):
    """How ``Store.take_message`` went; false only for a duplicate."""

    DUPLICATE = 0
    TAKEN = 1
    WAITS_FOR_PURGE = 2  # stored; a purge holds its thread, so it runs once that is done


# Purges of a thread (retention, "forget", `insightbot cleanup`).
RETENTION = "retention"
REQUEST = "request"
ERASED_MESSAGE_JSON = "{}"  # what a purge leaves of a turn's stored message


def is_erased(turn: TurnRecord) -> bool:
    """Whether a purge erased this turn's content (its question, answer and code)."""
    return turn.message_json == ERASED_MESSAGE_JSON and not turn.question


@dataclass(frozen=True)
class Erased:
    """What one purge erased locally."""

    turns: int = 0
    files: int = 0
    history: int = 0


@dataclass(frozen=True)
class PurgeNotice:
    """A purge the thread has not been told of yet: why, and when it finished."""

    reason: str
    done_at: float


@dataclass(frozen=True)
class IdleThread:
    """A thread with something left to purge, and its last activity."""

    thread_key: str
    last_activity: float


SCHEDULE_ACTIVE, SCHEDULE_PAUSED = "active", "paused"
# What became of an occurrence once claimed.
CLAIMED, MISSED, SKIPPED, POSTED = "claimed", "missed", "skipped", "posted"
# A claimed occurrence that never got its message posted (a crash in between).
INTERRUPTED = "interrupted"
# A posted run once its turn ended and it was counted toward the failures in a row (a run
# refused before it ran, by a used-up budget, counts neither way).
RUN_ANSWERED, RUN_FAILED, RUN_REFUSED = "answered", "failed", "refused"


@dataclass(frozen=True)
class ScheduleRecord:
    """A recurring analysis: ``every``/``at``/``tz`` as bot.schedules.recurrence takes them;
    ``files`` is "newest:PATTERN" or "same"."""

    channel: str
    user: str
    question: str
    every: str
    at: str
    tz: str
    files: str = "same"
    skip_unchanged: bool = False
    team: str = ""
    id: int = 0  # given by the store
    state: str = SCHEDULE_ACTIVE
    paused_reason: str | None = None
    source_thread_ts: str | None = None
    last_occurrence_at: float = 0.0  # the latest claimed occurrence, or the creation time
    last_file_id: str | None = None
    last_file_at: float | None = None
    failures: int = 0
    created_by: str | None = None
    created_at: float = 0.0
    file_ids: tuple[str, ...] = ()  # the files of a "same" schedule, fixed when it is made
    post_skipped: bool = False  # a skipped run posts one short line
    updated_at: float | None = None


@dataclass(frozen=True)
class OccurrenceRecord:
    """One claimed occurrence of a schedule and what became of it; ``turn_status`` is the
    status of the turn it started (None when it started none)."""

    schedule_id: int
    occurrence_at: float
    outcome: str
    claimed_at: float
    turn_id: str | None = None
    file_id: str | None = None
    message_ts: str | None = None
    turn_status: str | None = None

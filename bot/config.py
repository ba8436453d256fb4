"""Settings: read once from the environment (and an optional .env file), validated at start.

Everything else receives a ``Settings`` instance; nothing reads ``os.environ`` on its own.
Secrets are wrapped in ``Secret`` so that they never show in a repr, a log line or an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.redact import register_secrets

MEMORY_TIERS = ("1g", "4g", "16g", "64g")


class Secret:
    """A string that hides itself from repr/str; call ``reveal()`` at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class SettingSpec:
    """One documented setting: its variable, default (as text) and meaning."""

    env: str
    default: str | None
    meaning: str
    secret: bool = False


# The single source of the settings table; the README lists exactly these (a test checks it).
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "SLACK_BOT_TOKEN",
        None,
        "Bot token (`xoxb-…`). Required for `run`, `serve`, `doctor`.",
        True,
    ),
    SettingSpec(
        "SLACK_APP_TOKEN",
        None,
        "App-level token (`xapp-…`, scope `connections:write`). Required for `run` (Socket Mode).",
        True,
    ),
    SettingSpec(
        "SLACK_SIGNING_SECRET", None, "Signing secret. Required for `serve` (HTTP mode).", True
    ),
    SettingSpec(
        "SLACK_API_URL",
        "https://slack.com/api/",
        "Base URL of the Slack Web API (every Slack client uses it).",
    ),
    SettingSpec(
        "OPENAI_API_KEY",
        None,
        "OpenAI API key. Required (not with `INSIGHTBOT_ENGINE=local`).",
        True,
    ),
    SettingSpec(
        "OPENAI_BASE_URL",
        "https://api.openai.com/v1",
        "Base URL of the OpenAI API (the SDK's own variable).",
    ),
    SettingSpec("INSIGHTBOT_MODEL", "gpt-5.5", "Model that runs the code interpreter."),
    SettingSpec(
        "INSIGHTBOT_DB", "./insightbot.db", "SQLite file that remembers threads, files and turns."
    ),
    SettingSpec(
        "INSIGHTBOT_ASK_DB",
        "${XDG_DATA_HOME:-~/.local/share}/insightbot/ask.db",
        "SQLite file where `insightbot ask` keeps its conversations (never the bot's database).",
    ),
    SettingSpec(
        "INSIGHTBOT_MAX_FILE_MB",
        "512",
        "Largest file accepted, in MB (OpenAI's per-file limit is 512).",
    ),
    SettingSpec(
        "INSIGHTBOT_MAX_FILES_PER_THREAD",
        "20",
        "Most files one thread's sandbox holds; the newest win, the user is told which were left out.",
    ),
    SettingSpec(
        "INSIGHTBOT_RUN_TIMEOUT_S",
        "900",
        "A run queued or in progress longer than this is cancelled and reported.",
    ),
    SettingSpec(
        "INSIGHTBOT_CONTAINER_MEMORY_MAX",
        "16g",
        "Largest sandbox memory tier (1g, 4g, 16g, 64g); the tier grows with the data up to this.",
    ),
    SettingSpec(
        "INSIGHTBOT_MAX_CONCURRENT_RUNS",
        "100",
        "Most engine runs at once across all threads; below it the limit backs off when OpenAI "
        "answers rate_limit_exceeded and recovers gradually. More wait in order with a notice.",
    ),
    SettingSpec(
        "INSIGHTBOT_DRAIN_S",
        "30",
        "On shutdown, how long running turns get to finish before they are stored for resumption.",
    ),
    SettingSpec(
        "INSIGHTBOT_ADMINS",
        "",
        "Comma-separated Slack user ids who may stop anyone's run, see everyone's usage in the "
        "App Home and change per-channel settings there; people who are refused are told to "
        "ask them.",
    ),
    SettingSpec(
        "INSIGHTBOT_BACKGROUND",
        "true",
        "Run responses in background mode (resumable). Set false for zero-data-retention organisations.",
    ),
    SettingSpec(
        "INSIGHTBOT_RETENTION_DAYS",
        "30",
        "Days a thread's data is kept after its last activity; then its files, sandboxes, conversations and responses are deleted at OpenAI and its questions, answers and code erased here (usage numbers stay). 0: never.",
    ),
    SettingSpec(
        "INSIGHTBOT_SCHEDULE_GRACE_MINUTES",
        "60",
        "After downtime, a recurring analysis's latest missed run still runs if it is less than this many minutes late; otherwise it is skipped.",
    ),
    SettingSpec(
        "INSIGHTBOT_CHANNEL_FILE_TTL_H",
        "168",
        "How long a file shared at a channel's top level can be picked for a question without files, in hours.",
    ),
    SettingSpec(
        "INSIGHTBOT_STATUS_REFRESH_S",
        "90",
        'How often the thread\'s "working" status is refreshed (Slack clears it after two minutes).',
    ),
    SettingSpec(
        "INSIGHTBOT_HEALTH_PORT", "", "In Socket Mode, a port for `GET /healthz` (empty: none)."
    ),
    SettingSpec("INSIGHTBOT_LOG_LEVEL", "INFO", "Log level (DEBUG, INFO, WARNING, ERROR)."),
    SettingSpec(
        "INSIGHTBOT_LOG_FORMAT",
        "auto",
        "`plain` lines, `json` lines, or `auto`: plain when stderr is a terminal, JSON otherwise.",
    ),
    SettingSpec(
        "INSIGHTBOT_SLACK_FILE_HOSTS",
        "files.slack.com",
        "Comma-separated host names the bot token may be sent to for file downloads, https only "
        "(`files.slack.com` always is); add your Slack cloud's file host (GovSlack, for example). "
        "A non-default `SLACK_API_URL`'s own scheme, host and port are allowed as well.",
    ),
    SettingSpec(
        "INSIGHTBOT_MAX_QUESTION_CHARS",
        "20000",
        "Longest question accepted, in characters; a longer one is refused with a message.",
    ),
    SettingSpec(
        "INSIGHTBOT_MAX_OUTPUT_FILE_MB",
        "100",
        "Largest file (chart, CSV, …) the bot posts back from the sandbox, in MB; larger ones are "
        "named in the answer as not posted.",
    ),
    SettingSpec(
        "INSIGHTBOT_MAX_OUTPUT_TURN_MB",
        "300",
        "Most generated files one answer posts back in total, in MB.",
    ),
    SettingSpec(
        "INSIGHTBOT_USER_MAX_RUNNING",
        "3",
        "Analyses one person may have running at once; further questions wait in order (0: no limit).",
    ),
    SettingSpec(
        "INSIGHTBOT_USER_MAX_WAITING",
        "10",
        "Questions one person may have waiting; beyond this a question is refused (0: no limit).",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_SANDBOX",
        "bwrap",
        "How the local engine confines analysis code: `bwrap` (bubblewrap, required on PATH) or "
        "`none` (unconfined; every kernel start logs a warning).",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_UID",
        "65534",
        "Unprivileged uid and gid the local engine's kernels run as when the bot runs as root.",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_IDLE_MINUTES",
        "20",
        "A thread's kernel idle this long is shut down; the next question starts a fresh one "
        "with the thread's files back.",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_CELL_TIMEOUT_S",
        "120",
        "Wall time one code cell may run in the local engine before it is interrupted and the "
        "kernel restarted.",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_MEMORY_MB",
        "2048",
        "Memory (address space) of one local kernel, in MB.",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_DISK_MB",
        "1024",
        "Most data one thread's /mnt/data may hold in the local engine, in MB (checked after "
        "each cell; also the largest single file).",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_MAX_KERNELS",
        "",
        "Most local kernels at once (empty: half the machine's memory divided by "
        "`INSIGHTBOT_LOCAL_MEMORY_MB`, at least 1); beyond it the least recently used idle "
        "kernel is shut down, or the question waits.",
    ),
    SettingSpec(
        "INSIGHTBOT_ENGINE",
        "openai",
        "`openai` (OpenAI's hosted code interpreter) or `local` (a sandboxed Python kernel per "
        "thread on this machine and any Chat Completions server with tool calling; "
        "`OPENAI_API_KEY` is then not needed).",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_BASE_URL",
        "http://127.0.0.1:11434/v1",
        "The local engine's model server (OpenAI-compatible Chat Completions: Ollama, vLLM, "
        "llama.cpp, LM Studio, or OpenAI).",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_MODEL",
        None,
        "The model the local engine asks (it must support tool calling). Required with "
        "`INSIGHTBOT_ENGINE=local`.",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_API_KEY",
        None,
        "API key for the local engine's model server, if it wants one (the only key ever sent "
        "there).",
        True,
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_MAX_STEPS",
        "12",
        "Most Python runs the local engine's model may make for one question; then it stops "
        "and says so.",
    ),
    SettingSpec(
        "INSIGHTBOT_LOCAL_CONTEXT_TOKENS",
        "16000",
        "Conversation the local engine sends the model, in tokens (about 4 characters each); "
        "the oldest turns of a thread are dropped beyond it.",
    ),
    SettingSpec(
        "INSIGHTBOT_ALLOWED_CHANNELS",
        "",
        "Comma-separated channel ids the bot answers in (empty: every channel it is in). DMs "
        "and group DMs follow `INSIGHTBOT_ALLOW_DMS` instead.",
    ),
    SettingSpec(
        "INSIGHTBOT_ALLOWED_USERS",
        "",
        "Comma-separated user ids who may ask (empty: everyone).",
    ),
    SettingSpec(
        "INSIGHTBOT_ALLOW_DMS", "true", "Whether people may ask in DMs and group DMs with the bot."
    ),
    SettingSpec(
        "INSIGHTBOT_EXTERNAL_USERS",
        "deny",
        "People from another organisation in a Slack Connect channel: `deny` (their questions "
        "are refused and the files they share are never used) or `allow`.",
    ),
    SettingSpec(
        "INSIGHTBOT_PRICES",
        "",
        "A JSON file of prices that override or add to the bundled ones, in dollars per million "
        'tokens (`{"my-model": {"input": 2.0, "cached_input": 0.2, "output": 8.0}}`) and per '
        'sandbox minute (`{"container:1g": {"per_minute": 0.0015}}`).',
    ),
    SettingSpec(
        "INSIGHTBOT_USER_DAILY_USD",
        "",
        "What one person may spend a day, in US dollars (empty: no budget).",
    ),
    SettingSpec(
        "INSIGHTBOT_CHANNEL_DAILY_USD",
        "",
        "What one channel may spend a day, in US dollars, unless an admin set its own "
        "(empty: no budget).",
    ),
    SettingSpec(
        "INSIGHTBOT_MONTHLY_USD",
        "",
        "What the whole workspace may spend a month, in US dollars (empty: no budget).",
    ),
    SettingSpec(
        "INSIGHTBOT_TIMEZONE",
        "UTC",
        "The time zone budgets' days and months (and usage reports) count in, e.g. Asia/Seoul.",
    ),
)


@dataclass(frozen=True)
class Settings:
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_api_url: str = "https://slack.com/api/"
    openai_api_key: Secret | None = None
    openai_base_url: str | None = None
    model: str = "gpt-5.5"
    db_path: Path = Path("./insightbot.db")
    ask_db_path: Path = Path(".local/share/insightbot/ask.db")  # load_settings makes it absolute
    max_file_bytes: int = 512 * 1024 * 1024
    max_files_per_thread: int = 20
    run_timeout_s: float = 900.0
    container_memory_max: str = "16g"
    max_concurrent_runs: int = 100
    drain_s: float = 30.0
    admins: frozenset[str] = field(default_factory=frozenset)
    background: bool = True
    retention_days: int = 30  # 0: the retention sweep is off
    schedule_grace_s: float = 60 * 60.0
    channel_file_ttl_s: float = 168 * 3600.0
    status_refresh_s: float = 90.0
    health_port: int | None = None
    log_level: str = "INFO"
    log_format: str = "auto"
    slack_file_hosts: tuple[str, ...] = ("files.slack.com",)
    max_question_chars: int = 20_000
    max_output_file_bytes: int = 100 * 1024 * 1024
    max_output_turn_bytes: int = 300 * 1024 * 1024
    user_max_running: int = 3
    user_max_waiting: int = 10
    local_sandbox: str = "bwrap"
    local_uid: int = 65534
    local_idle_s: float = 20 * 60.0
    local_cell_timeout_s: float = 120.0
    local_memory_bytes: int = 2048 * 1024 * 1024
    local_disk_bytes: int = 1024 * 1024 * 1024
    local_max_kernels: int | None = None
    engine: str = "openai"
    local_base_url: str = "http://127.0.0.1:11434/v1"
    local_model: str | None = None
    local_api_key: Secret | None = None
    local_max_steps: int = 12
    local_context_tokens: int = 16_000
    allowed_channels: frozenset[str] = field(default_factory=frozenset)  # empty: every channel
    allowed_users: frozenset[str] = field(default_factory=frozenset)  # empty: everyone
    allow_dms: bool = True
    external_users: str = "deny"
    prices_path: Path | None = None
    user_daily_usd: float | None = None
    channel_daily_usd: float | None = None
    monthly_usd: float | None = None
    timezone: str = "UTC"

    @property
    def any_budget(self) -> bool:
        """Whether a budget is set here (a channel's own budget is stored, not a setting)."""
        return any(
            b is not None for b in (self.user_daily_usd, self.channel_daily_usd, self.monthly_usd)
        )

    def engine_requirements(self) -> tuple[str, ...]:
        """The settings the chosen engine cannot run without (for ``require``)."""
        return ("local_model",) if self.engine == "local" else ("openai_api_key",)

    def secret_values(self) -> list[str]:
        """The revealed value of every secret setting (for masking them in logs and errors)."""
        return [
            value.reveal()
            for value in vars(self).values()
            if isinstance(value, Secret) and value.reveal()
        ]

    def require(self, *names: str) -> None:
        """Raise ConfigError listing every missing setting among ``names`` at once, each with
        how to get it, where settings are read from, and what to run next."""
        missing = [_ENV_OF.get(name, name) for name in names if not getattr(self, name)]
        if not missing:
            return
        where = (
            f"in the environment or in {Path.cwd() / '.env'} (one NAME=value a line), then "
            'check with `insightbot doctor` (the README\'s "Set up the Slack app" shows where '
            "each comes from)."
        )
        if len(missing) == 1:
            env = missing[0]
            raise ConfigError(f"{env} is not set: {_HOW_TO_SET.get(env, 'set it')}. Put it {where}")
        lines = [f"{len(missing)} settings are missing:"]
        lines += [f"  {env}: {_HOW_TO_SET.get(env, 'set it')}." for env in missing]
        lines.append(f"Put them {where}")
        raise ConfigError("\n".join(lines))

    def warnings(self) -> list[str]:
        """Things that may be wrong but need not be (a token of an unexpected shape)."""
        found = []
        for name, prefix in (("slack_bot_token", "xoxb-"), ("slack_app_token", "xapp-")):
            token = getattr(self, name)
            if token and not token.reveal().startswith(prefix):
                found.append(
                    f"{_ENV_OF[name]} does not start with {prefix}; "
                    "if it is not a rotated or enterprise token, check that you copied the right one."
                )
        return found


_ENV_OF = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "openai_api_key": "OPENAI_API_KEY",
    "local_model": "INSIGHTBOT_LOCAL_MODEL",
}
# Token kinds that are certainly wrong in each place (a user token, or the other app token).
_WRONG_TOKEN_KINDS = {
    "SLACK_BOT_TOKEN": (
        ("xapp-", "an app-level token (xapp-…)"),
        ("xoxp-", "a user token (xoxp-…)"),
    ),
    "SLACK_APP_TOKEN": (("xoxb-", "a bot token (xoxb-…)"), ("xoxp-", "a user token (xoxp-…)")),
}


def _check_token_kinds(merged: Mapping[str, str]) -> None:
    bot = merged.get("SLACK_BOT_TOKEN", "").strip()
    app = merged.get("SLACK_APP_TOKEN", "").strip()
    if bot.startswith("xapp-") and app.startswith("xoxb-"):
        raise ConfigError(
            "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are swapped: the bot token starts with xoxb-, "
            "the app-level token with xapp-."
        )
    for env, value in (("SLACK_BOT_TOKEN", bot), ("SLACK_APP_TOKEN", app)):
        for prefix, kind in _WRONG_TOKEN_KINDS[env]:
            if value.startswith(prefix):
                expected = "xoxb-" if env == "SLACK_BOT_TOKEN" else "xapp-"
                raise ConfigError(
                    f"{env} holds {kind}; it needs the token that starts with {expected}."
                )


_HOW_TO_SET = {
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page",
    "SLACK_APP_TOKEN": "create an app-level token with connections:write under Basic Information",
    "SLACK_SIGNING_SECRET": "copy the Signing Secret from your app's Basic Information page",
    "OPENAI_API_KEY": "create an API key at platform.openai.com and set it",
    "INSIGHTBOT_LOCAL_MODEL": "name a model your INSIGHTBOT_LOCAL_BASE_URL server serves that "
    "supports tool calling (for Ollama, one listed by `ollama list`)",
}


def _positive_int(env: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{env} must be a whole number, got {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"{env} must be greater than 0, got {raw!r}.")
    return value


def _positive_float(env: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{env} must be a number, got {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"{env} must be greater than 0, got {raw!r}.")
    return value


def _non_negative_int(env: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{env} must be a whole number, got {raw!r}.") from None
    if value < 0:
        raise ConfigError(f"{env} must be 0 or more, got {raw!r}.")
    return value


def _host_names(env: str, raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower().rstrip(".") for h in raw.split(",") if h.strip())
    for host in hosts:
        if not re.fullmatch(r"[a-z0-9.-]{1,253}", host) or ".." in host:
            raise ConfigError(f"{env} must list host names like files.slack.com, got {host!r}.")
    return hosts


def _boolean(env: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{env} must be true or false, got {raw!r}.")


def _memory_tier(env: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in MEMORY_TIERS:
        raise ConfigError(f"{env} must be one of {', '.join(MEMORY_TIERS)}, got {raw!r}.")
    return value


def _log_level(env: str, raw: str) -> str:
    value = raw.strip().upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{env} must be DEBUG, INFO, WARNING or ERROR, got {raw!r}.")
    return value


def _log_format(env: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("auto", "plain", "json"):
        raise ConfigError(f"{env} must be auto, plain or json, got {raw!r}.")
    return value


def _port(env: str, raw: str) -> int | None:
    if not raw.strip():
        return None
    port = _positive_int(env, raw)
    if port > 65535:
        raise ConfigError(f"{env} must be a port number (1-65535), got {raw!r}.")
    return port


def _url(env: str, raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{env} must be an http(s) URL, got {raw!r}.")
    return value


def _sandbox_kind(env: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("bwrap", "none"):
        raise ConfigError(f"{env} must be bwrap or none, got {raw!r}.")
    return value


def _engine_kind(env: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("openai", "local"):
        raise ConfigError(f"{env} must be openai or local, got {raw!r}.")
    return value


def _slack_ids(env: str, raw: str) -> frozenset[str]:
    ids = frozenset(i.strip() for i in raw.split(",") if i.strip())
    for one in ids:
        if not re.fullmatch(r"[A-Z0-9]{2,32}", one):
            raise ConfigError(
                f"{env} must list Slack ids like C0123ABCD or U0123ABCD, got {one!r}."
            )
    return ids


def _external_users(env: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("deny", "allow"):
        raise ConfigError(f"{env} must be deny or allow, got {raw!r}.")
    return value


def _dollars(env: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"{env} must be an amount in US dollars like 5 or 2.50, got {raw!r}."
        ) from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{env} must be 0 or more, got {raw!r}.")
    return value


def _timezone(env: str, raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = raw.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{env} must be a time zone name like UTC or Asia/Seoul, got {raw!r}."
        ) from None
    return value


def _secret(_env: str, raw: str) -> Secret | None:
    return Secret(raw.strip()) if raw.strip() else None


_PARSERS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "SLACK_BOT_TOKEN": ("slack_bot_token", _secret),
    "SLACK_APP_TOKEN": ("slack_app_token", _secret),
    "SLACK_SIGNING_SECRET": ("slack_signing_secret", _secret),
    "SLACK_API_URL": ("slack_api_url", lambda e, r: _url(e, r).rstrip("/") + "/"),
    "OPENAI_API_KEY": ("openai_api_key", _secret),
    "OPENAI_BASE_URL": ("openai_base_url", _url),
    "INSIGHTBOT_MODEL": ("model", lambda _e, r: r.strip()),
    "INSIGHTBOT_DB": ("db_path", lambda _e, r: Path(r.strip())),
    "INSIGHTBOT_ASK_DB": ("ask_db_path", lambda _e, r: Path(r.strip()).expanduser()),
    "INSIGHTBOT_MAX_FILE_MB": ("max_file_bytes", lambda e, r: _positive_int(e, r) * 1024 * 1024),
    "INSIGHTBOT_MAX_FILES_PER_THREAD": ("max_files_per_thread", _positive_int),
    "INSIGHTBOT_RUN_TIMEOUT_S": ("run_timeout_s", _positive_float),
    "INSIGHTBOT_CONTAINER_MEMORY_MAX": ("container_memory_max", _memory_tier),
    "INSIGHTBOT_MAX_CONCURRENT_RUNS": ("max_concurrent_runs", _positive_int),
    "INSIGHTBOT_DRAIN_S": ("drain_s", _positive_float),
    "INSIGHTBOT_ADMINS": (
        "admins",
        lambda _e, r: frozenset(u.strip() for u in r.split(",") if u.strip()),
    ),
    "INSIGHTBOT_BACKGROUND": ("background", _boolean),
    "INSIGHTBOT_RETENTION_DAYS": ("retention_days", _non_negative_int),
    "INSIGHTBOT_SCHEDULE_GRACE_MINUTES": (
        "schedule_grace_s",
        lambda e, r: _positive_float(e, r) * 60,
    ),
    "INSIGHTBOT_CHANNEL_FILE_TTL_H": (
        "channel_file_ttl_s",
        lambda e, r: _positive_float(e, r) * 3600,
    ),
    "INSIGHTBOT_STATUS_REFRESH_S": ("status_refresh_s", _positive_float),
    "INSIGHTBOT_HEALTH_PORT": ("health_port", _port),
    "INSIGHTBOT_LOG_LEVEL": ("log_level", _log_level),
    "INSIGHTBOT_LOG_FORMAT": ("log_format", _log_format),
    "INSIGHTBOT_SLACK_FILE_HOSTS": ("slack_file_hosts", _host_names),
    "INSIGHTBOT_MAX_QUESTION_CHARS": ("max_question_chars", _positive_int),
    "INSIGHTBOT_MAX_OUTPUT_FILE_MB": (
        "max_output_file_bytes",
        lambda e, r: _positive_int(e, r) * 1024 * 1024,
    ),
    "INSIGHTBOT_MAX_OUTPUT_TURN_MB": (
        "max_output_turn_bytes",
        lambda e, r: _positive_int(e, r) * 1024 * 1024,
    ),
    "INSIGHTBOT_USER_MAX_RUNNING": ("user_max_running", _non_negative_int),
    "INSIGHTBOT_USER_MAX_WAITING": ("user_max_waiting", _non_negative_int),
    "INSIGHTBOT_LOCAL_SANDBOX": ("local_sandbox", _sandbox_kind),
    "INSIGHTBOT_LOCAL_UID": ("local_uid", _positive_int),
    "INSIGHTBOT_LOCAL_IDLE_MINUTES": ("local_idle_s", lambda e, r: _positive_float(e, r) * 60),
    "INSIGHTBOT_LOCAL_CELL_TIMEOUT_S": ("local_cell_timeout_s", _positive_float),
    "INSIGHTBOT_LOCAL_MEMORY_MB": (
        "local_memory_bytes",
        lambda e, r: _positive_int(e, r) * 1024 * 1024,
    ),
    "INSIGHTBOT_LOCAL_DISK_MB": (
        "local_disk_bytes",
        lambda e, r: _positive_int(e, r) * 1024 * 1024,
    ),
    "INSIGHTBOT_LOCAL_MAX_KERNELS": ("local_max_kernels", _positive_int),
    "INSIGHTBOT_ENGINE": ("engine", _engine_kind),
    "INSIGHTBOT_LOCAL_BASE_URL": ("local_base_url", lambda e, r: _url(e, r).rstrip("/")),
    "INSIGHTBOT_LOCAL_MODEL": ("local_model", lambda _e, r: r.strip()),
    "INSIGHTBOT_LOCAL_API_KEY": ("local_api_key", _secret),
    "INSIGHTBOT_LOCAL_MAX_STEPS": ("local_max_steps", _positive_int),
    "INSIGHTBOT_LOCAL_CONTEXT_TOKENS": ("local_context_tokens", _positive_int),
    "INSIGHTBOT_ALLOWED_CHANNELS": ("allowed_channels", _slack_ids),
    "INSIGHTBOT_ALLOWED_USERS": ("allowed_users", _slack_ids),
    "INSIGHTBOT_ALLOW_DMS": ("allow_dms", _boolean),
    "INSIGHTBOT_EXTERNAL_USERS": ("external_users", _external_users),
    "INSIGHTBOT_PRICES": ("prices_path", lambda _e, r: Path(r.strip())),
    "INSIGHTBOT_USER_DAILY_USD": ("user_daily_usd", _dollars),
    "INSIGHTBOT_CHANNEL_DAILY_USD": ("channel_daily_usd", _dollars),
    "INSIGHTBOT_MONTHLY_USD": ("monthly_usd", _dollars),
    "INSIGHTBOT_TIMEZONE": ("timezone", _timezone),
}


def _ask_db_default(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/insightbot/ask.db``, where the XDG base directory spec puts user data."""
    data_home = environ.get("XDG_DATA_HOME", "").strip()
    base = Path(data_home) if data_home else Path(environ.get("HOME", "~")) / ".local" / "share"
    return base.expanduser() / "insightbot" / "ask.db"


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of a .env file (empty when there is none); the environment wins over it."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Build Settings from ``environ`` (default: os.environ) over an optional .env file.

    Raises ConfigError with one line naming the variable when a value is invalid.
    """
    merged: dict[str, str] = dict(read_dotenv(dotenv_path)) if dotenv_path else {}
    merged.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for env, (attr, parse) in _PARSERS.items():
        raw = merged.get(env)
        if raw is None or (raw.strip() == "" and env != "INSIGHTBOT_ADMINS"):
            continue
        values[attr] = parse(env, raw)
    if merged.get("SLACK_CLIENT_ID") and merged.get("SLACK_CLIENT_SECRET"):
        raise ConfigError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are both set: that switches Slack's SDK to "
            "OAuth and drops the bot token. insightbot runs with one bot token; unset them."
        )
    _check_token_kinds(merged)
    values.setdefault("ask_db_path", _ask_db_default(merged))
    settings = Settings(**values)
    register_secrets(settings.secret_values())
    return settings

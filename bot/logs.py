"""Structured logging: one JSON object a line, carrying the Slack event id, the thread, the turn
id and the engine's request id from context variables, with secrets scrubbed as a last guard."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.redact import redact

_CONTEXT_FIELDS = ("event_id", "thread", "turn_id", "request_id")
# LogRecord already has ``thread`` (the OS thread id): the Slack thread goes on ``slack_thread``.
_RECORD_ATTRIBUTE = {"thread": "slack_thread"}
_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"insightbot_{name}", default=None) for name in _CONTEXT_FIELDS
}


def scrub(text: str) -> str:
    """``text`` with every secret setting's value and anything shaped like a token masked."""
    return redact(text)


@contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    """Attach context (event_id, thread, turn_id, request_id) to every log line inside."""
    tokens = []
    for name, value in values.items():
        if name not in _context:
            raise ValueError(f"unknown log context field {name!r}")
        tokens.append((_context[name], _context[name].set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def set_log_context(**values: str | None) -> None:
    """Set context for the rest of the current task (tasks copy the context they start with)."""
    for name, value in values.items():
        _context[name].set(value)


class ContextFilter(logging.Filter):
    """Copies the context variables onto each record so formatters and tests can read them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _context.items():
            attribute = _RECORD_ATTRIBUTE.get(name, name)
            if getattr(record, attribute, None) is None:
                setattr(record, attribute, var.get())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, _RECORD_ATTRIBUTE.get(name, name), None)
            if value:
                entry[name] = value
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return scrub(json.dumps(entry, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """One readable line a record for a person at a terminal: time, level, message, context."""

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{name}={value}"
            for name in _CONTEXT_FIELDS
            if (value := getattr(record, _RECORD_ATTRIBUTE.get(name, name), None))
        )
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.getMessage()}"
        if context:
            line += f"  [{context}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return scrub(line)


def formatter_for(log_format: str, *, stream_is_terminal: bool) -> logging.Formatter:
    """Plain lines for a person at a terminal, JSON lines for a log collector ("auto")."""
    if log_format == "plain" or (log_format == "auto" and stream_is_terminal):
        return PlainFormatter()
    return JsonFormatter()


def configure_logging(level: str, log_format: str = "auto") -> None:
    """Route every logger to stderr, as plain lines in a terminal and JSON lines otherwise
    (``log_format`` "plain" or "json" decides instead); idempotent."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_insightbot", False):
            root.removeHandler(handler)
    install_redacting_records()
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(log_format, stream_is_terminal=sys.stderr.isatty()))
    handler.addFilter(ContextFilter())
    handler._insightbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # Bolt and the SDKs log request details at DEBUG; keep them quieter than our own lines.
    for noisy in ("slack_bolt", "slack_sdk", "openai", "httpx", "httpx2", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))


def install_redacting_records() -> None:
    """Mask secrets when a record is made, so every handler (not only ours) gets clean text."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_insightbot", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    make_record._insightbot = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)

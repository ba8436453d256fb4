"""Every word the bot says comes from one catalogue (bot/messages/), in Korean and English.

Two checks: every entry, called with sample arguments built from its signature, says
something different in Korean, with Hangul in it; and the code's syntax tree holds no sentence
for people outside the catalogue (string literals with letters where a text is shown).
"""

from __future__ import annotations

import ast
import inspect
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import errors, messages
from bot.types import FailureCode
from storage import StorageError

ROOT = Path(__file__).parent.parent
HANGUL = re.compile("[\uac00-\ud7a3]")

# Names the catalogue's front offers that are not entries (no sentence to translate).
NOT_ENTRIES = {
    "language_of",  # tells the language of a text; returns 'ko' or 'en', not words
    "Words",  # the type of an entry with its arguments bound
}
# Arguments whose values are keys the entry looks up (any other value is a plain sample).
SAMPLE_ARGUMENTS: dict[tuple[str, str], object] = {
    ("task_title", "step"): "python",
    ("local_limit", "limit"): "memory",
    ("answer_incomplete", "reason"): "max_output_tokens",
    ("response_failed", "reason"): "server_error",
    ("binary_not_text", "looks_like"): "pdf",
    ("file_corrupt", "kind"): "parquet",
    ("run_failed", "code"): FailureCode.RESPONSE_FAILED,
    ("budget_name", "budget"): "user_daily",
    ("budget_used_up", "budget"): "monthly",
    ("schedule_when", "every"): "weekly:mon",
    ("schedule_source", "files"): "newest:sales_*.csv",
    ("schedule_pause_reason", "reason"): "owner_left",
    ("schedule_status", "reason"): "failures",
    ("schedule_last_run", "result"): "answered",
    ("schedule_pause_cause", "reason"): "owner_left",
    ("schedule_paused_in_channel", "reason"): "archived",
    ("schedule_paused_for_owner", "reason"): "not_member",
    ("schedule_paused_for_admin", "reason"): "failures",
    ("schedule_skipped", "reason"): "unchanged",
    ("schedule_rule_words", "every"): "weekly:mon",
}


def _entries() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for name in messages.__all__:
        value = getattr(messages, name)
        if name not in NOT_ENTRIES and inspect.isfunction(value):
            found.append((name, value))
    return found


def _sample(hint: Any) -> object:
    """A value of the annotated type, in plain ASCII so that any Hangul is the entry's own."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return _sample(next(a for a in args if a is not type(None)))
    if origin is tuple:
        return tuple(_sample(a) for a in args)
    if origin in (list, Sequence, Collection, set, frozenset) or hint in (Sequence, Collection):
        return [_sample(args[0] if args else str)]
    if origin in (dict, Mapping) or hint is Mapping:
        return {"file": 2, "container": 1}
    if hint is datetime:
        return datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    if isinstance(hint, type) and issubclass(hint, FailureCode):
        return next(iter(FailureCode))
    samples: dict[object, object] = {str: "sample.csv", int: 3, float: 120.0, bool: True}
    return samples[hint]


def _call(name: str, entry: Callable[..., Any], lang: str) -> str:
    hints = typing.get_type_hints(entry)
    params = list(inspect.signature(entry).parameters)
    assert params[0] == "lang", f"{name}: the language must be the first argument"
    arguments = {p: SAMPLE_ARGUMENTS.get((name, p), _sample(hints[p])) for p in params[1:]}
    said = entry(lang, **arguments)
    return "\n".join(said) if isinstance(said, list) else str(said)


def test_the_catalogue_has_its_entries() -> None:
    assert len(_entries()) > 90


@pytest.mark.parametrize(("name", "entry"), _entries(), ids=[n for n, _ in _entries()])
def test_every_entry_speaks_korean_and_english(name: str, entry: Callable[..., Any]) -> None:
    english, korean = _call(name, entry, "en"), _call(name, entry, "ko")
    assert korean != english
    assert HANGUL.search(korean), f"{name}('ko') has no Hangul: {korean!r}"
    assert not HANGUL.search(english), f"{name}('en') has Hangul: {english!r}"


@pytest.mark.parametrize("code", list(FailureCode))
def test_every_failure_code_is_worded_in_both_languages(code: FailureCode) -> None:
    korean = messages.run_failed("ko", code, "some_reason", "the server's words")
    assert HANGUL.search(korean) and korean != messages.run_failed("en", code)


def _error_classes(base: type[errors.InsightbotError]) -> list[type[errors.InsightbotError]]:
    found = []
    for cls in base.__subclasses__():
        found += [cls, *_error_classes(cls)]
    return found


# ConfigError is for the operator, who reads the settings' names in English.
SPOKEN_ERRORS = [
    c for c in _error_classes(errors.InsightbotError) if c is not errors.ConfigError
] + [errors.InsightbotError]
# A file problem has no words of its own: its raise site always names the file.
DEFAULT_WORDS = [c for c in SPOKEN_ERRORS if not issubclass(c, errors.FileProblem)]


def test_the_errors_include_storages() -> None:
    assert StorageError in DEFAULT_WORDS and errors.OutcomeUnknown in DEFAULT_WORDS


@pytest.mark.parametrize("cls", DEFAULT_WORDS, ids=[c.__name__ for c in DEFAULT_WORDS])
def test_every_error_says_its_default_words_in_both_languages(
    cls: type[errors.InsightbotError],
) -> None:
    error = cls()
    assert HANGUL.search(error.text_for("ko")), error.text_for("ko")
    assert error.user_message == error.text_for("en") and not HANGUL.search(error.user_message)


def test_an_errors_words_follow_the_reader_and_its_log_text_stays_english() -> None:
    words = lambda lang: messages.file_deleted(lang, "old.csv")  # noqa: E731
    error = errors.FileUnavailable(words, file_name="old.csv", detail="F1: HTTP 404")
    assert error.text_for("ko") == messages.file_deleted("ko", "old.csv")
    assert error.user_message == messages.file_deleted("en", "old.csv")
    assert str(error) == "F1: HTTP 404"
    refused = errors.EngineBadRequest(server_words="Invalid 'input': too long.")
    assert refused.text_for("ko") == "분석 엔진이 요청을 거부했어요: Invalid 'input': too long."


# ---------------------------------------------------------------- no words outside it

# Out of scope: text for the operator, in English on purpose (the settings' names, the
# doctor's check lines, the backup command, the local engine's start-up checks).
OPERATOR_MODULES = {
    "bot/config.py",
    "bot/doctor.py",
    "bot/cli.py",
    "bot/engines/local/checks.py",
    "bot/engines/local/factory.py",
    "bot/engines/local/sandbox.py",
    "bot/engines/choice.py",
}
# Calls whose ``text=`` is shown in Slack, and calls whose first argument is.
TEXT_KEYWORD_CALLS = {"post_message", "post_ephemeral", "update_message", "fail", "button_block"}
TEXT_POSITIONAL_CALLS = {"section_block"}
ERROR_CLASSES = {c.__name__ for c in SPOKEN_ERRORS}
# Single sentences for the operator inside modules that otherwise speak to users:
# (module, words the literal starts with), each with why.
OPERATOR_LINES = {
    # The database cannot be opened: raised at start, before any Slack thread exists.
    ("storage/_db.py", "I could not open the database"),
}


def _has_words(node: ast.AST | None) -> bool:
    """Whether an expression is (or builds on) a string literal with letters in it."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(c.isalpha() for c in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_has_words(part) for part in node.values)
    if isinstance(node, ast.BinOp):
        return _has_words(node.left) or _has_words(node.right)
    if isinstance(node, ast.IfExp):
        return _has_words(node.body) or _has_words(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _has_words(node.func.value)  # "...".format(...)
    return False


def _name_of(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _shown_arguments(call: ast.Call, *, module: str) -> list[ast.expr]:
    """The arguments of ``call`` that people read."""
    name = _name_of(call.func)
    keyword = {k.arg: k.value for k in call.keywords}
    if name in TEXT_KEYWORD_CALLS:
        return [v for k, v in keyword.items() if k == "text"]
    if name in TEXT_POSITIONAL_CALLS:
        return call.args[:1]
    if name == "say":  # the turn's say(state, text)
        return [*call.args[1:], *[v for k, v in keyword.items() if k == "text"]]
    if name in ERROR_CLASSES:
        return [*call.args[:1], *[v for k, v in keyword.items() if k in ("words", "user_message")]]
    if name == "Failed":
        return [*call.args[:1], *[v for k, v in keyword.items() if k == "message"]]
    if name == "print" and module == "bot/ask.py":
        return list(call.args)
    return []


def words_outside_the_catalogue(source: str, *, module: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            for argument in _shown_arguments(node, module=module):
                shown = ast.unparse(argument)
                excused = any(
                    module == m and shown.lstrip("f").strip("'\"").startswith(start)
                    for m, start in OPERATOR_LINES
                )
                if _has_words(argument) and not excused:
                    found.append(f"{module}:{node.lineno}: {shown[:70]}")
    return found


def _code_modules() -> list[Path]:
    paths = [
        p for package in ("bot", "handlers", "storage") for p in (ROOT / package).rglob("*.py")
    ]
    return [
        p
        for p in paths
        if not p.relative_to(ROOT).as_posix().startswith("bot/messages/")
        and p.relative_to(ROOT).as_posix() not in OPERATOR_MODULES
    ]


def test_no_sentence_for_people_is_written_outside_the_catalogue() -> None:
    found = [
        hit
        for path in _code_modules()
        for hit in words_outside_the_catalogue(
            path.read_text(encoding="utf-8"), module=path.relative_to(ROOT).as_posix()
        )
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ('await slack.post_message(channel=c, text="Done!")', "bot/x.py"),
        ('await slack.post_ephemeral(channel=c, user=u, text=f"Hi {name}")', "bot/x.py"),
        ('await slack.update_message(channel=c, ts=t, text="a" + b)', "bot/x.py"),
        ('await stream.fail(text="Sorry.")', "bot/x.py"),
        ('await say(state, "No files.")', "bot/x.py"),
        ('raise FileUnavailable(f"{name} was deleted.", file_name=name)', "bot/x.py"),
        ('raise EngineError("The engine failed.")', "bot/x.py"),
        ('raise StorageError(words="{} is gone".format(x))', "bot/x.py"),
        ('yield Failed(message="Stopped.", code=c)', "bot/x.py"),
        ('print("• uploading", file=stderr)', "bot/ask.py"),
    ],
)
def test_the_check_finds_words_where_people_read_them(source: str, module: str) -> None:
    assert words_outside_the_catalogue(f"async def f():\n    {source}\n", module=module)


@pytest.mark.parametrize(
    "source",
    [
        "await slack.post_message(channel=c, text=messages.working(lang))",
        'await slack.update_message(channel=c, ts=t, text="✓", blocks=())',  # a mark, no words
        'await say(state, "\\n\\n".join(notices))',
        "raise FileUnavailable(partial(messages.file_deleted, name=n), file_name=n)",
        'raise EngineError(detail=f"no container for {turn}")',  # for logs
        'log.warning("turn %s failed", turn)',
        'print(f"  {logs.strip()}", file=stderr)',
    ],
)
def test_the_check_leaves_catalogue_calls_marks_and_logs_alone(source: str) -> None:
    assert not words_outside_the_catalogue(f"async def f():\n    {source}\n", module="bot/ask.py")

"""The schedule modal ("Repeat…" on an answer, Edit in the App Home): the view it shows, and
the submitted form read back and checked. Pure: no Slack, no storage.

Slack modals cannot show or hide a field without a round trip (``dispatch_action`` and
views.update inside the trigger's life), so the weekday and the day of the month are always
shown, optional, each with a hint saying which frequency uses it; the check asks for the one
the chosen frequency needs. The time zone is a text field prefilled with the person's Slack
zone and checked with zoneinfo: a select cannot list the ~600 IANA names (100 options at
most), and an external select would need a listener of its own for no gain.

Block ids double as action ids. ``private_metadata`` says what the modal is for (a turn to
repeat, or a schedule to edit); the submission is checked again against storage and Slack,
never trusted on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import messages as words
from bot.schedules.choice import NEWEST_PREFIX
from bot.schedules.pattern import MAX_PATTERN_CHARS
from bot.schedules.timing import WEEKDAYS, ScheduleRuleError, recurrence

__all__ = [
    "QUESTION_INPUT_MAX",
    "SCHEDULE_EDIT_ACTION",
    "SCHEDULE_MODAL_CALLBACK",
    "FormCheck",
    "ModalPrefill",
    "ModalTarget",
    "ScheduleForm",
    "ValidSchedule",
    "check_form",
    "form_of",
    "schedule_modal",
    "target_of",
]

SCHEDULE_MODAL_CALLBACK = "schedule_modal"
SCHEDULE_EDIT_ACTION = "schedule_edit"  # value: the schedule id (the App Home's Edit button)
QUESTION_INPUT_MAX = 3000  # Slack's most for a plain_text_input
NEWEST, SAME = "newest", "same"
SKIP_UNCHANGED, POST_SKIPPED = "skip_unchanged", "post_skipped"
# Block ids (and action ids) of the modal's inputs.
QUESTION, EVERY, WEEKDAY, DAY, AT, TZ = "question", "every", "weekday", "day", "at", "tz"
SOURCE, PATTERN, OPTIONS = "source", "pattern", "options"
_TURN, _SCHEDULE = "turn", "schedule"


@dataclass(frozen=True)
class ModalTarget:
    """What a modal is for: repeating a turn (``turn_id``) or editing a schedule."""

    turn_id: str | None = None
    schedule_id: int | None = None

    @property
    def metadata(self) -> str:
        if self.schedule_id is not None:
            return f"{_SCHEDULE}:{self.schedule_id}"
        return f"{_TURN}:{self.turn_id}"


def target_of(metadata: str) -> ModalTarget | None:
    """The target ``private_metadata`` names, or None when it names none."""
    kind, _, value = metadata.partition(":")
    if kind == _TURN and value:
        return ModalTarget(turn_id=value)
    if kind == _SCHEDULE and value.isdigit():
        return ModalTarget(schedule_id=int(value))
    return None


@dataclass(frozen=True)
class ModalPrefill:
    """What the modal shows at first. ``fixed_source`` (editing): the data source as words,
    shown instead of the source and pattern inputs."""

    question: str
    tz: str
    frequency: str = "weekly"  # daily | weekdays | weekly | monthly
    weekday: str = "mon"
    day: int = 1
    at: str = "09:00"
    source: str = SAME  # newest | same
    pattern: str = ""
    skip_unchanged: bool = False
    post_skipped: bool = False
    fixed_source: str | None = None


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def _option(value: str, label: str) -> dict[str, Any]:
    # Slack allows 75 characters in an option's text.
    return {"text": {"type": "plain_text", "text": label[:75], "emoji": True}, "value": value}


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "element": {"action_id": block_id, **element},
        "optional": optional,
    }
    if hint:
        block["hint"] = _text(hint)
    return block


def _select(options: tuple[tuple[str, str], ...], initial: str) -> dict[str, Any]:
    choices = [_option(value, label) for value, label in options]
    chosen = next((c for c in choices if c["value"] == initial), choices[0])
    return {"type": "static_select", "options": choices, "initial_option": chosen}


def schedule_modal(
    lang: str, prefill: ModalPrefill, *, target: ModalTarget, max_question_chars: int
) -> dict[str, Any]:
    """The modal, labels in ``lang``."""
    limit = min(max_question_chars, QUESTION_INPUT_MAX)
    blocks = [
        _input(
            QUESTION,
            words.schedule_question_label(lang),
            {
                "type": "plain_text_input",
                "multiline": True,
                "max_length": limit,
                "initial_value": prefill.question[:limit],
            },
        ),
        _input(
            EVERY,
            words.schedule_every_label(lang),
            _select(words.schedule_every_options(lang), prefill.frequency),
        ),
        _input(
            WEEKDAY,
            words.schedule_weekday_label(lang),
            _select(words.schedule_weekday_options(lang), prefill.weekday),
            optional=True,
            hint=words.schedule_weekday_hint(lang),
        ),
        _input(
            DAY,
            words.schedule_day_label(lang),
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": "31",
                "initial_value": str(prefill.day),
            },
            optional=True,
            hint=words.schedule_day_hint(lang),
        ),
        _input(
            AT, words.schedule_at_label(lang), {"type": "timepicker", "initial_time": prefill.at}
        ),
        _input(
            TZ,
            words.schedule_tz_label(lang),
            {"type": "plain_text_input", "max_length": 64, "initial_value": prefill.tz},
            hint=words.schedule_tz_hint(lang),
        ),
        *_source_blocks(lang, prefill),
        _options_block(lang, prefill),
    ]
    return {
        "type": "modal",
        "callback_id": SCHEDULE_MODAL_CALLBACK,
        "private_metadata": target.metadata,
        "title": _text(words.schedule_modal_title(lang, target.schedule_id is not None)[:24]),
        "submit": _text(words.modal_submit(lang)),
        "close": _text(words.modal_close(lang)),
        "blocks": blocks,
    }


def _source_blocks(lang: str, prefill: ModalPrefill) -> list[dict[str, Any]]:
    if prefill.fixed_source is not None:
        text = words.schedule_source_fixed(lang, prefill.fixed_source)
        return [{"type": "context", "elements": [{"type": "plain_text", "text": text[:2000]}]}]
    choices = [
        _option(NEWEST, words.schedule_source_newest(lang)),
        _option(SAME, words.schedule_source_same(lang)),
    ]
    pattern: dict[str, Any] = {"type": "plain_text_input", "max_length": MAX_PATTERN_CHARS}
    if prefill.pattern:
        pattern["initial_value"] = prefill.pattern
    return [
        _input(
            SOURCE,
            words.schedule_source_label(lang),
            {
                "type": "radio_buttons",
                "options": choices,
                "initial_option": choices[0] if prefill.source == NEWEST else choices[1],
            },
        ),
        _input(
            PATTERN,
            words.schedule_pattern_label(lang),
            pattern,
            optional=True,
            hint=words.schedule_pattern_hint(lang),
        ),
    ]


def _options_block(lang: str, prefill: ModalPrefill) -> dict[str, Any]:
    choices = [
        _option(SKIP_UNCHANGED, words.schedule_skip_unchanged_option(lang)),
        _option(POST_SKIPPED, words.schedule_post_skipped_option(lang)),
    ]
    chosen = [prefill.skip_unchanged, prefill.post_skipped]
    element: dict[str, Any] = {"type": "checkboxes", "options": choices}
    if any(chosen):  # Slack refuses an empty initial_options
        element["initial_options"] = [c for c, on in zip(choices, chosen, strict=True) if on]
    return _input(OPTIONS, words.schedule_options_label(lang), element, optional=True)


# ---------------------------------------------------------------- the submission


@dataclass(frozen=True)
class ScheduleForm:
    """The submitted modal as typed (``view.state.values``), before any check."""

    question: str = ""
    frequency: str = ""
    weekday: str = ""
    day: str = ""
    at: str = ""
    tz: str = ""
    source: str = ""  # newest | same | "" (editing: not shown)
    pattern: str = ""
    skip_unchanged: bool = False
    post_skipped: bool = False


def _state(values: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    block = values.get(block_id)
    state = block.get(block_id) if isinstance(block, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _selected(values: Mapping[str, Any], block_id: str) -> str:
    option = _state(values, block_id).get("selected_option")
    return _string(option.get("value")) if isinstance(option, Mapping) else ""


def form_of(values: Mapping[str, Any]) -> ScheduleForm:
    """Read ``view.state.values``; anything missing or malformed reads as empty."""
    checked = _state(values, OPTIONS).get("selected_options")
    ticked = {
        _string(o.get("value")) for o in checked or () if isinstance(o, Mapping)
    } if isinstance(checked, list) else set()  # fmt: skip
    return ScheduleForm(
        question=_string(_state(values, QUESTION).get("value")),
        frequency=_selected(values, EVERY),
        weekday=_selected(values, WEEKDAY),
        day=_string(_state(values, DAY).get("value")),
        at=_string(_state(values, AT).get("selected_time")),
        tz=_string(_state(values, TZ).get("value")),
        source=_selected(values, SOURCE),
        pattern=_string(_state(values, PATTERN).get("value")),
        skip_unchanged=SKIP_UNCHANGED in ticked,
        post_skipped=POST_SKIPPED in ticked,
    )


@dataclass(frozen=True)
class ValidSchedule:
    """A form that passed ``check_form``: ``every``/``at``/``tz`` as the store keeps them;
    ``files`` "newest:PATTERN" or "same" (None when editing: the source is fixed)."""

    question: str
    every: str
    at: str
    tz: str
    files: str | None
    skip_unchanged: bool
    post_skipped: bool


@dataclass(frozen=True)
class FormCheck:
    schedule: ValidSchedule | None
    errors: dict[str, str]  # block id -> what to fix, in the person's language


def check_form(
    form: ScheduleForm, *, lang: str, max_question_chars: int, editing: bool
) -> FormCheck:
    """Check every field; the errors go back to the modal by block id."""
    errors: dict[str, str] = {}
    question = form.question.strip()
    if not question or len(question) > max_question_chars:
        errors[QUESTION] = words.schedule_error_question(lang, max_question_chars)
    frequency = (
        form.frequency if form.frequency in ("daily", "weekdays", "weekly", "monthly") else "daily"
    )
    every = frequency
    if frequency == "weekly":
        if form.weekday not in WEEKDAYS:
            errors[WEEKDAY] = words.schedule_error_weekday(lang)
        every = f"weekly:{form.weekday}"
    elif frequency == "monthly":
        day = form.day.strip()
        if not (day.isdigit() and 1 <= int(day) <= 31):
            errors[DAY] = words.schedule_error_day(lang)
        every = f"monthly:{day}"
    tz = form.tz.strip()
    try:
        recurrence(every="daily", at="00:00", tz=tz)
    except ScheduleRuleError:
        errors[TZ] = words.schedule_error_tz(lang, tz[:64])
    try:
        recurrence(every="daily", at=form.at, tz="UTC")
    except ScheduleRuleError:
        errors[AT] = words.schedule_error_at(lang)
    files: str | None = None
    if not editing:
        pattern = form.pattern.strip()
        if form.source != SAME:
            if not pattern or "/" in pattern or len(pattern) > MAX_PATTERN_CHARS:
                errors[PATTERN] = words.schedule_error_pattern(lang, MAX_PATTERN_CHARS)
            files = f"{NEWEST_PREFIX}{pattern}"
        else:
            files = SAME
    if errors:
        return FormCheck(schedule=None, errors=errors)
    rule = recurrence(every=every, at=form.at, tz=tz)
    schedule = ValidSchedule(
        question=question,
        every=rule.every,
        at=rule.at,
        tz=rule.tz,
        files=files,
        skip_unchanged=form.skip_unchanged,
        post_skipped=form.post_skipped,
    )
    return FormCheck(schedule=schedule, errors={})

"""The "Repeat…" button and the schedule modal (make or edit a recurring analysis), in Korean
and English: labels, choices, validation errors and the confirmation posted in the thread.

Pure functions taking ``lang`` first, like every entry of the catalogue. The modal speaks the
clicker's Slack language (else the question's).
"""

from __future__ import annotations

from bot.messages._lang import pick, when

_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS_KO = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")
_WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def repeat_label(lang: str) -> str:
    return pick(lang, "Repeat…", "반복…")


def schedule_modal_title(lang: str, editing: bool) -> str:
    # Slack allows 24 characters in a modal's title.
    if editing:
        return pick(lang, "Edit the schedule", "예약 수정")
    return pick(lang, "Repeat this question", "이 질문 반복하기")


def schedule_question_label(lang: str) -> str:
    return pick(lang, "Question", "질문")


def schedule_every_label(lang: str) -> str:
    return pick(lang, "How often", "반복 주기")


def schedule_every_options(lang: str) -> tuple[tuple[str, str], ...]:
    """(value, label) of each frequency; the values are bot.schedules.Frequency's."""
    return (
        ("daily", pick(lang, "Every day", "매일")),
        ("weekdays", pick(lang, "Every weekday (Mon–Fri)", "평일마다 (월–금)")),
        ("weekly", pick(lang, "Every week", "매주")),
        ("monthly", pick(lang, "Every month", "매월")),
    )


def schedule_weekday_label(lang: str) -> str:
    return pick(lang, "Day of the week", "요일")


def schedule_weekday_hint(lang: str) -> str:
    return pick(lang, "For “Every week” only.", "‘매주’일 때만 씁니다.")


def schedule_weekday_options(lang: str) -> tuple[tuple[str, str], ...]:
    """(value, label) of each weekday, Monday first; values ``mon``..``sun``."""
    names = _WEEKDAYS_KO if lang == "ko" else _WEEKDAYS_EN
    return tuple(zip(_WEEKDAY_KEYS, names, strict=True))


def schedule_day_label(lang: str) -> str:
    return pick(lang, "Day of the month (1–31)", "날짜 (1–31일)")


def schedule_day_hint(lang: str) -> str:
    return pick(
        lang,
        "For “Every month” only. Days 29–31 run on a shorter month's last day.",
        "‘매월’일 때만 씁니다. 29–31일은 짧은 달에는 그 달의 마지막 날에 실행됩니다.",
    )


def schedule_at_label(lang: str) -> str:
    return pick(lang, "At", "시각")


def schedule_tz_label(lang: str) -> str:
    return pick(lang, "Time zone", "시간대")


def schedule_tz_hint(lang: str) -> str:
    return pick(
        lang,
        "A time zone name such as Asia/Seoul, America/New_York or UTC.",
        "Asia/Seoul, America/New_York, UTC 같은 시간대 이름을 적어 주세요.",
    )


def schedule_source_label(lang: str) -> str:
    return pick(lang, "Data", "데이터")


def schedule_source_newest(lang: str) -> str:
    return pick(
        lang,
        "The newest file in this channel named like the pattern below",
        "이 채널에서 아래 패턴과 이름이 맞는 가장 최근 파일",
    )


def schedule_source_same(lang: str) -> str:
    return pick(lang, "The same files as this answer", "이 답변과 같은 파일")


def schedule_pattern_label(lang: str) -> str:
    return pick(lang, "File name pattern", "파일 이름 패턴")


def schedule_pattern_hint(lang: str) -> str:
    return pick(
        lang,
        "* stands for any text, e.g. sales_*.csv. Used with the newest-file choice.",
        "*는 아무 글자나 뜻합니다 (예: sales_*.csv). ‘가장 최근 파일’을 고르면 씁니다.",
    )


def schedule_options_label(lang: str) -> str:
    return pick(lang, "When nothing new arrived", "새 파일이 없을 때")


def schedule_skip_unchanged_option(lang: str) -> str:
    return pick(
        lang,
        "Skip a run when no new matching file arrived since the last one",
        "지난 실행 뒤로 맞는 새 파일이 없으면 건너뛰기",
    )


def schedule_post_skipped_option(lang: str) -> str:
    return pick(
        lang,
        "Post one short line when a run is skipped",
        "실행을 건너뛸 때 짧게 한 줄 남기기",
    )


def schedule_files_newest(lang: str, pattern: str) -> str:
    return pick(
        lang,
        f"on the newest file in this channel named like {pattern}",
        f"이 채널에서 {pattern}와(과) 이름이 맞는 가장 최근 파일로",
    )


def schedule_files_same(lang: str) -> str:
    return pick(lang, "on the same files", "같은 파일로")


def schedule_source_fixed(lang: str, source: str) -> str:
    return pick(
        lang,
        f"Data: {source}. The channel and data source are fixed when the schedule is made.",
        f"데이터: {source}. 채널과 데이터는 예약을 만들 때 정해지며 바꿀 수 없습니다.",
    )


def schedule_rule_words(lang: str, every: str, at: str, tz: str) -> str:
    """``every`` as stored (daily | weekdays | weekly:mon | monthly:15) in words, with the
    time and its zone."""
    kind, _, arg = every.partition(":")
    if kind == "weekly" and arg in _WEEKDAY_KEYS:
        index = _WEEKDAY_KEYS.index(arg)
        en, ko = f"every {_WEEKDAYS_EN[index]}", f"매주 {_WEEKDAYS_KO[index]}"
    elif kind == "monthly":
        en, ko = f"on day {arg} of every month", f"매월 {arg}일"
    elif kind == "weekdays":
        en, ko = "every weekday", "평일마다"
    else:
        en, ko = "every day", "매일"
    return pick(lang, f"{en} at {at} ({tz})", f"{ko} {at} ({tz})")


def schedule_saved(lang: str, rule: str, source: str, next_run: float, local: str) -> str:
    """The confirmation in the answer's thread; ``local`` is the next run in the schedule's
    own zone, in words."""
    stamp = when(str(int(next_run)))
    return pick(
        lang,
        f"🔁 Scheduled: I will answer this question again {rule}, {source}. "
        f"Next run: {stamp} ({local}). Pause, edit or delete it in my App Home.",
        f"🔁 예약했어요: {rule}에 이 질문에 다시 답합니다 ({source}). "
        f"다음 실행: {stamp} ({local}). 일시 정지, 수정, 삭제는 제 앱 홈에서 할 수 있어요.",
    )


def schedule_changed(lang: str, rule: str, next_run: float, local: str) -> str:
    stamp = when(str(int(next_run)))
    return pick(
        lang,
        f"🔁 The schedule of this question changed: {rule}. Next run: {stamp} ({local}).",
        f"🔁 이 질문의 예약이 바뀌었어요: {rule}. 다음 실행: {stamp} ({local}).",
    )


def schedule_error_question(lang: str, limit: int) -> str:
    return pick(
        lang,
        f"Write the question to ask (at most {limit:,} characters).",
        f"물어볼 질문을 적어 주세요 ({limit:,}자 이하).",
    )


def schedule_error_at(lang: str) -> str:
    return pick(lang, "Choose a time.", "시각을 골라 주세요.")


def schedule_error_tz(lang: str, tz: str) -> str:
    return pick(
        lang,
        f"“{tz}” is not a time zone name; try one like Asia/Seoul or UTC.",
        f"‘{tz}’은(는) 시간대 이름이 아니에요. Asia/Seoul이나 UTC처럼 적어 주세요.",
    )


def schedule_error_weekday(lang: str) -> str:
    return pick(lang, "Choose the day of the week.", "요일을 골라 주세요.")


def schedule_error_day(lang: str) -> str:
    return pick(
        lang, "Write a day of the month from 1 to 31.", "1에서 31 사이의 날짜를 적어 주세요."
    )


def schedule_error_pattern(lang: str, limit: int) -> str:
    return pick(
        lang,
        f"Write a file name pattern such as sales_*.csv (no “/”, at most {limit} characters).",
        f"sales_*.csv 같은 파일 이름 패턴을 적어 주세요 (“/” 없이 {limit}자 이하).",
    )


def schedule_error_not_member(lang: str) -> str:
    return pick(
        lang,
        "Only members of the channel can schedule questions in it.",
        "채널 멤버만 그 채널에 질문을 예약할 수 있어요.",
    )


def schedule_error_not_allowed(lang: str) -> str:
    return pick(
        lang,
        "You cannot ask me questions in this channel, so you cannot schedule them either.",
        "이 채널에서 질문할 수 없어서 예약도 할 수 없어요.",
    )


def schedule_error_not_owner(lang: str) -> str:
    return pick(
        lang,
        "Only the person who made this schedule, or an admin, can change it.",
        "이 예약을 만든 사람이나 관리자만 바꿀 수 있어요.",
    )


def schedule_error_gone(lang: str) -> str:
    return pick(
        lang,
        "This answer or schedule no longer exists.",
        "이 답변이나 예약이 더 이상 없어요.",
    )


def schedule_error_unchecked(lang: str) -> str:
    return pick(
        lang,
        "I could not check with Slack just now; please try again.",
        "지금 Slack에 확인하지 못했어요. 잠시 뒤 다시 시도해 주세요.",
    )

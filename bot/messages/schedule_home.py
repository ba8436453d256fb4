"""Managing recurring analyses: the App Home's schedules section, its buttons, and the list a
channel gets when someone mentions the bot with "schedules", in Korean and English.

Entries whose ``lang`` may be None (the Home of a person whose Slack locale is unknown) say
both languages; a schedule's own lines are said in one language (the reader's, else the
language of the schedule's question). Dates are Slack date tokens (``when``): each reader
sees their own time zone. Owners are shown by name, never as a mention.
"""

from __future__ import annotations

from bot.messages._lang import pick, when
from bot.messages.schedule_modal import schedule_rule_words


def _say(lang: str | None, en: str, ko: str) -> str:
    return f"{ko}\n{en}" if lang is None else pick(lang, en, ko)


def _label(lang: str | None, en: str, ko: str) -> str:
    """A button's label: short, so both languages share one line."""
    return f"{ko} / {en}" if lang is None else pick(lang, en, ko)


# ---------------------------------------------------------------- the App Home


def home_schedules_title(lang: str | None, *, everyone: bool) -> str:
    if everyone:
        return _say(lang, "*Recurring analyses (everyone's)*", "*반복 분석 (전체)*")
    return _say(lang, "*Your recurring analyses*", "*내 반복 분석*")


def home_no_schedules(lang: str | None) -> str:
    return _say(
        lang,
        'None yet. Press "Repeat…" under an answer to have its question answered again on a '
        "schedule.",
        '아직 없어요. 답변 아래의 "반복…" 버튼을 누르면 같은 질문에 정해진 때마다 다시 답해요.',
    )


def home_more_schedules(lang: str | None, count: int) -> str:
    return _say(
        lang,
        f"…and {count} more. Operators can list them all with `insightbot schedules`.",
        f"…외 {count}개가 더 있어요. 운영자는 `insightbot schedules`로 모두 볼 수 있어요.",
    )


def schedule_when(lang: str, every: str, at: str, tz: str) -> str:
    """How often and when, as a line of its own (the rule as the modal's confirmation words
    it), with what happens to days 29-31 in shorter months."""
    words = schedule_rule_words(lang, every, at, tz)
    words = words[:1].upper() + words[1:]
    if every.startswith("monthly:"):
        words += pick(lang, "; the last day in shorter months", "; 그날이 없는 달은 마지막 날")
    return words


def schedule_source(lang: str, files: str) -> str:
    """The data a run uses: ``files`` is "newest:PATTERN" or "same"."""
    kind, _, pattern = files.partition(":")
    if kind == "newest" and pattern:
        return pick(
            lang,
            f"Data: the newest file in the channel named like {pattern}",
            f"데이터: 채널에서 이름이 {pattern} 형태인 가장 최근 파일",
        )
    return pick(lang, "Data: the same files every time", "데이터: 매번 같은 파일")


def schedule_pause_reason(lang: str, reason: str | None) -> str:
    """Why a schedule is paused, as a sentence."""
    sentences = {
        "owner_left": (
            "Its owner is no longer an active member of the workspace.",
            "만든 사람이 더 이상 워크스페이스의 활성 멤버가 아니에요.",
        ),
        "not_member": (
            "Its owner is no longer a member of the channel.",
            "만든 사람이 더 이상 채널의 멤버가 아니에요.",
        ),
        "archived": ("The channel was archived.", "채널이 보관되었어요."),
        "access_denied": (
            "Its owner may no longer use the bot there.",
            "만든 사람이 그 채널에서 더 이상 봇을 쓸 수 없어요.",
        ),
        "failures": ("It failed three times in a row.", "세 번 연속 실패했어요."),
        "by_person": ("Someone paused it.", "누군가 일시 중지했어요."),
    }
    en, ko = sentences.get(reason or "", ("It was paused.", "일시 중지되었어요."))
    return pick(lang, en, ko)


def schedule_status(lang: str, *, paused: bool, reason: str | None) -> str:
    if not paused:
        return pick(lang, "Status: active", "상태: 진행 중")
    why = schedule_pause_reason(lang, reason)
    return pick(lang, f"Status: paused. {why}", f"상태: 일시 중지. {why}")


def schedule_next_run(lang: str, at: float) -> str:
    return pick(lang, f"Next run: {when(str(at))}", f"다음 실행: {when(str(at))}")


def schedule_last_run(lang: str, *, at: float, result: str) -> str:
    """The last run and what became of it (``result``: answered, failed, stopped, running,
    skipped, missed or interrupted)."""
    results = {
        "answered": ("answered", "답변함"),
        "failed": ("failed", "실패"),
        "stopped": ("stopped", "중지됨"),
        "running": ("running now", "실행 중"),
        "skipped": ("skipped (no new file)", "건너뜀 (새 파일 없음)"),
        "missed": ("missed (the bot was down)", "놓침 (봇이 멈춰 있었음)"),
        "interrupted": ("interrupted", "중단됨"),
    }
    en, ko = results.get(result, (result, result))
    return pick(lang, f"Last run: {when(str(at))}, {en}", f"지난 실행: {when(str(at))}, {ko}")


def schedule_never_ran(lang: str) -> str:
    return pick(lang, "Last run: not yet", "지난 실행: 아직 없음")


def schedule_last_run_link(lang: str) -> str:
    return pick(lang, "Open the last run", "지난 실행 보기")


def schedule_pause_label(lang: str | None) -> str:
    return _label(lang, "Pause", "일시 중지")


def schedule_resume_label(lang: str | None) -> str:
    return _label(lang, "Resume", "다시 시작")


def schedule_delete_label(lang: str | None) -> str:
    return _label(lang, "Delete", "삭제")


def schedule_delete_confirm_title(lang: str | None) -> str:
    return _label(lang, "Delete?", "삭제할까요?")


def schedule_delete_confirm_text(lang: str | None) -> str:
    return _say(
        lang,
        "This recurring analysis stops for good; past runs stay in the channel.",
        "이 반복 분석은 다시 실행되지 않아요. 지난 실행은 채널에 남아요.",
    )


def schedule_delete_confirm_deny(lang: str | None) -> str:
    return _label(lang, "Cancel", "취소")


# ---------------------------------------------------------------- "@bot schedules" in a channel


def channel_schedules_title(lang: str, count: int) -> str:
    return pick(
        lang,
        f"Recurring analyses in this channel ({count}):",
        f"이 채널의 반복 분석 ({count}개):",
    )


def channel_schedules_none(lang: str) -> str:
    return pick(
        lang,
        'This channel has no recurring analyses. To make one, press "Repeat…" under an '
        "answer here; operators can also use `insightbot schedules add`.",
        '이 채널에는 반복 분석이 없어요. 이 채널의 답변 아래 "반복…" 버튼을 눌러 만들 수 있고, '
        "운영자는 `insightbot schedules add`로도 만들 수 있어요.",
    )


def channel_schedule_line(lang: str, *, owner: str, question: str, timing: str, status: str) -> str:
    """One schedule of the channel's list: ``timing`` and ``status`` are this catalogue's
    words (``schedule_when`` with ``schedule_next_run``, ``schedule_status``)."""
    return pick(
        lang,
        f"• {question}\n    by {owner} · {timing} · {status}",
        f"• {question}\n    {owner} 님 · {timing} · {status}",
    )


def channel_schedules_more(lang: str, count: int) -> str:
    return pick(
        lang,
        f"…and {count} more. Operators can list them all with `insightbot schedules`.",
        f"…외 {count}개가 더 있어요. 운영자는 `insightbot schedules`로 모두 볼 수 있어요.",
    )

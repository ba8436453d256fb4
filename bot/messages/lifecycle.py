"""The data lifecycle's texts (forget this thread, retention), in Korean and English.

Pure functions taking ``lang`` first, like every entry of the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.messages._lang import pick

# Object kinds (bot/engines/objects.py) as people call them: singular, plural, Korean.
_KIND_WORDS = {
    "file": ("uploaded file", "uploaded files", "업로드한 파일"),
    "container": ("sandbox", "sandboxes", "샌드박스"),
    "conversation": ("conversation", "conversations", "대화"),
    "response": ("response", "responses", "응답"),
}


def _objects(lang: str, counts: Mapping[str, int]) -> str:
    parts = []
    for kind, (one, many, korean) in _KIND_WORDS.items():
        n = counts.get(kind, 0)
        if n:
            parts.append(f"{korean} {n}개" if lang == "ko" else f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def forget_done(
    lang: str, *, deleted: Mapping[str, int], pending: Mapping[str, int], turns: int, files: int
) -> str:
    """The confirmation in the thread: what went at OpenAI and here, and what is still to go."""
    gone = _objects(lang, deleted)
    waiting = sum(pending.values())
    if lang == "ko":
        lines = ["이 스레드의 데이터를 지웠어요."]
        if gone:
            lines.append(f"• 분석 엔진에서 삭제: {gone}")
        lines.append(f"• 여기 저장된 질문·답변·코드 {turns}건과 파일 기록 {files}건 삭제")
        if waiting:
            lines.append(
                f"• 아직 삭제되지 않은 항목 {waiting}개({_objects(lang, pending)})는 "
                "계속 다시 시도할게요."
            )
        lines.append(
            "이 스레드에서 다시 질문하면 처음부터 새로 분석해요. Slack의 파일은 그대로 있어요."
        )
        return "\n".join(lines)
    lines = ["I forgot this thread."]
    if gone:
        lines.append(f"• Deleted at the analysis engine: {gone}")
    lines.append(
        f"• Erased here: {turns} question(s) with their answers and code, {files} file record(s)"
    )
    if waiting:
        lines.append(
            f"• Not deleted yet: {_objects(lang, pending)}. I'll keep trying until it is gone."
        )
    lines.append(
        "A new question here starts a fresh analysis. The files stay in Slack as they are."
    )
    return "\n".join(lines)


def forget_nothing(lang: str) -> str:
    return pick(
        lang,
        "There was nothing of this thread stored to forget.",
        "이 스레드에 대해 저장된 데이터가 없어요.",
    )


def forget_not_allowed(lang: str) -> str:
    return pick(
        lang,
        "Only someone who asked me a question in this thread, or an admin of this bot, can "
        "make me forget it.",
        "이 스레드에서 질문한 사람이나 봇 관리자만 이 스레드를 잊게 할 수 있어요.",
    )


def forget_busy(lang: str) -> str:
    return pick(
        lang,
        "I could not forget this thread yet: an analysis here is still finishing. Please ask "
        "again in a minute.",
        "아직 이 스레드의 분석이 끝나지 않아 지우지 못했어요. 잠시 후 다시 요청해 주세요.",
    )


def analysis_cleared(lang: str, *, reason: str, days: int) -> str:
    """One line before the first answer after a purge: earlier analysis is gone."""
    if reason == "retention" and days > 0:
        return pick(
            lang,
            f"Earlier analysis in this thread was cleared after {days} days without activity; "
            "I'm starting fresh from the thread's files.",
            f"이 스레드의 이전 분석은 {days}일 동안 활동이 없어 지워졌어요. 스레드의 파일로 새로 "
            "시작할게요.",
        )
    return pick(
        lang,
        "Earlier analysis in this thread was cleared on request; I'm starting fresh from the "
        "thread's files.",
        "이 스레드의 이전 분석은 요청에 따라 지워졌어요. 스레드의 파일로 새로 시작할게요.",
    )


def turn_was_cleared(lang: str) -> str:
    """Told privately to someone clicking Retry or Show code on an answer a purge erased."""
    return pick(
        lang,
        "That analysis was cleared from my memory (this thread was forgotten). Ask the "
        "question again to run it anew.",
        "그 분석은 지워졌어요(이 스레드의 데이터를 삭제했어요). 다시 질문하면 새로 분석할게요.",
    )

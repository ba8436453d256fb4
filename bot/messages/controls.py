"""Words of the buttons under an answer (Stop, Retry, Show code), what pressing them says, and
the private notes of admission (a question that waits or was refused)."""

from __future__ import annotations

from bot.messages._lang import mention, pick

# ---------------------------------------------------------------- buttons


def stop_label(lang: str) -> str:
    return pick(lang, "Stop", "중지")


def retry_label(lang: str) -> str:
    return pick(lang, "Retry", "다시 시도")


def show_code_label(lang: str) -> str:
    return pick(lang, "Show code", "코드 보기")


def retrying(lang: str, user: str) -> str:
    return pick(
        lang,
        f"Trying again, as {mention(user)} asked…",
        f"{mention(user)} 님의 요청으로 다시 시도하는 중…",
    )


def not_allowed_to_stop(lang: str, asker: str) -> str:
    return pick(
        lang,
        f"Only {mention(asker)} (who asked) or an admin of this bot can stop this analysis.",
        f"이 분석은 질문한 {mention(asker)} 님이나 봇 관리자만 중지할 수 있어요.",
    )


def not_allowed_to_retry(lang: str, asker: str) -> str:
    return pick(
        lang,
        f"Only {mention(asker)} (who asked) or an admin of this bot can retry this analysis.",
        f"이 분석은 질문한 {mention(asker)} 님이나 봇 관리자만 다시 시도할 수 있어요.",
    )


def already_finished(lang: str) -> str:
    return pick(lang, "That analysis has already finished.", "그 분석은 이미 끝났어요.")


def no_code(lang: str) -> str:
    return pick(lang, "No code ran for this answer.", "이 답변에는 실행된 코드가 없어요.")


def button_not_in_thread(lang: str) -> str:
    return pick(
        lang,
        "That button does not belong to this analysis's thread, so I did nothing.",
        "이 버튼은 해당 분석의 스레드에 속하지 않아서 아무 것도 하지 않았어요.",
    )


def code_already_posted(lang: str, permalink: str | None) -> str:
    if permalink:
        return pick(
            lang,
            f"The code for this answer is already posted in this thread: {permalink}",
            f"이 답변의 코드는 이미 이 스레드에 올라와 있어요: {permalink}",
        )
    return pick(
        lang,
        "The code for this answer is already posted above in this thread.",
        "이 답변의 코드는 이미 이 스레드 위쪽에 올라와 있어요.",
    )


# ---------------------------------------------------------------- admission notes


def waiting_for_own_runs(lang: str, limit: int) -> str:
    return pick(
        lang,
        f"You already have {limit} analyses running, so this question waits and starts "
        "automatically when one of them finishes.",
        f"이미 분석 {limit}개가 진행 중이라 이 질문은 잠시 기다려요. 하나가 끝나면 자동으로 시작해요.",
    )


def too_many_waiting(lang: str, limit: int) -> str:
    return pick(
        lang,
        f"You already have {limit} questions waiting, so I did not take this one. Ask it again "
        "once some of them have been answered.",
        f"이미 질문 {limit}개가 대기 중이라 이 질문은 받지 않았어요. 앞의 질문에 답이 나온 뒤 "
        "다시 물어봐 주세요.",
    )


def question_too_long(lang: str, limit: int) -> str:
    return pick(
        lang,
        f"Your question is longer than {limit:,} characters, the most I accept, so I did not "
        "analyse it. Shorten it (put long data in a file) and ask again.",
        f"질문이 최대 길이인 {limit:,}자를 넘어서 분석하지 않았어요. 질문을 줄이고(긴 데이터는 "
        "파일로 첨부해 주세요) 다시 물어봐 주세요.",
    )

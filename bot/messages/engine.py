"""Why an analysis run ended without an answer, worded by its ``FailureCode`` (bot/types.py),
and what the local engine says about the code it stopped.

Engines report a failure as data (code, the engine's finer ``reason``, the server's own
``detail``); ``run_failed`` turns that into the asker's language. The engine's errors
(``EngineError`` in bot/errors.py) use the same words.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.messages._lang import pick
from bot.messages.turn import unexpected
from bot.types import FailureCode


def run_failed(
    lang: str, code: FailureCode, reason: str | None = None, detail: str | None = None
) -> str:
    """Why the run ended: ``reason`` is the engine's own code (``server_error``,
    ``max_output_tokens``), ``detail`` the server's own words, shown as they came."""
    if code is FailureCode.RESPONSE_FAILED:
        return response_failed(lang, reason, detail)
    if code is FailureCode.INCOMPLETE:
        return answer_incomplete(lang, reason)
    if code is FailureCode.BAD_REQUEST:
        return engine_refused(lang, detail)
    return _BY_CODE.get(code, engine_failed)(lang)


def engine_failed(lang: str) -> str:
    return pick(
        lang,
        "The analysis engine failed. Please try again in a moment.",
        "분석 엔진에 문제가 생겼어요. 잠시 후 다시 시도해 주세요.",
    )


def engine_rate_limited(lang: str) -> str:
    return pick(
        lang,
        "The analysis engine is busy right now (rate limit). Please try again in a minute.",
        "분석 엔진이 지금 바빠요 (요청 한도 초과). 1분쯤 뒤에 다시 시도해 주세요.",
    )


def engine_quota_exhausted(lang: str) -> str:
    return pick(
        lang,
        "The analysis engine's usage quota is used up, so I cannot run analyses right now. "
        "An administrator needs to check the OpenAI plan and billing.",
        "분석 엔진의 사용 한도를 모두 써서 지금은 분석할 수 없어요. 관리자가 OpenAI 요금제와 "
        "결제 정보를 확인해야 해요.",
    )


def engine_key_refused(lang: str) -> str:
    return pick(
        lang,
        "I cannot reach the analysis engine because its API key was refused. "
        "An administrator needs to check OPENAI_API_KEY.",
        "분석 엔진이 API 키를 거부해서 연결할 수 없어요. 관리자가 OPENAI_API_KEY를 확인해야 해요.",
    )


def engine_refused(lang: str, detail: str | None = None) -> str:
    """The engine refused the request; ``detail`` is its reason, which the asker may act on."""
    if detail:
        return pick(
            lang,
            f"The analysis engine refused the request: {detail}",
            f"분석 엔진이 요청을 거부했어요: {detail}",
        )
    return pick(
        lang, "The analysis engine refused this request.", "분석 엔진이 이 요청을 거부했어요."
    )


def engine_unavailable(lang: str) -> str:
    return pick(
        lang,
        "The analysis engine is not responding right now. Please try again in a few minutes.",
        "분석 엔진이 지금 응답하지 않아요. 몇 분 뒤에 다시 시도해 주세요.",
    )


def sandbox_expired(lang: str) -> str:
    return pick(
        lang,
        "The analysis sandbox expired; it will be recreated.",
        "분석 샌드박스가 만료되었어요. 새로 만들게요.",
    )


def engine_lost_at_start(lang: str) -> str:
    return pick(
        lang,
        "I lost contact with the analysis engine while starting the run and could not tell "
        "whether it started. Please try again.",
        "분석을 시작하는 중에 분석 엔진과 연결이 끊겨 시작되었는지 알 수 없어요. 다시 시도해 "
        "주세요.",
    )


def stream_lost(lang: str) -> str:
    return pick(
        lang,
        "I lost the connection to the analysis engine before the answer was complete. "
        "Please ask again.",
        "답변이 끝나기 전에 분석 엔진과 연결이 끊겼어요. 다시 물어봐 주세요.",
    )


def run_not_resumable(lang: str) -> str:
    return pick(
        lang,
        "This analysis can no longer be continued: the engine no longer has it. Please ask again.",
        "이 분석은 더 이상 이어서 진행할 수 없어요: 엔진에 남아 있지 않아요. 다시 물어봐 주세요.",
    )


def run_cancelled(lang: str) -> str:
    return pick(
        lang,
        "The analysis was stopped before it finished.",
        "분석이 끝나기 전에 중단되었어요.",
    )


# A failed response's ``error.code`` (OpenAI's list): the lead of the sentence, and whether
# trying again later may help.
_RESPONSE_ERRORS: dict[str, tuple[str, str, bool]] = {
    "server_error": (
        "The analysis engine had an internal error",
        "분석 엔진 내부 오류가 생겼어요",
        True,
    ),
    "rate_limit_exceeded": (
        "The analysis engine is over its rate limit",
        "분석 엔진의 요청 한도를 넘었어요",
        True,
    ),
    "invalid_prompt": (
        "The analysis engine refused the question",
        "분석 엔진이 질문을 거부했어요",
        False,
    ),
    "vector_store_timeout": (
        "The analysis engine timed out",
        "분석 엔진의 시간이 초과되었어요",
        True,
    ),
}


def response_failed(lang: str, reason: str | None = None, detail: str | None = None) -> str:
    """A response that ended ``failed``: ``reason`` is its error code, ``detail`` its message."""
    en, ko, again = _RESPONSE_ERRORS.get(
        reason or "", ("The analysis failed", "분석에 실패했어요", False)
    )
    lead = pick(lang, en, ko)
    text = f"{lead}: {detail}" if detail else f"{lead}."
    if again:
        text += pick(lang, " Please try again in a moment.", " 잠시 후 다시 시도해 주세요.")
    return text


def answer_incomplete(lang: str, reason: str | None = None) -> str:
    """A response that ended ``incomplete``; ``reason`` is the engine's ``incomplete_details``."""
    if reason == "max_output_tokens":
        return pick(
            lang,
            "The answer got too long and was cut off. Try asking for less at once, for example "
            "one chart or one table per question.",
            "답변이 너무 길어서 잘렸어요. 한 번에 조금씩, 예를 들어 질문마다 차트나 표 하나씩 "
            "요청해 주세요.",
        )
    if reason == "content_filter":
        return pick(
            lang,
            "The answer was stopped by the engine's content filter.",
            "엔진의 콘텐츠 필터가 답변을 중단했어요.",
        )
    if reason == "max_messages":
        return pick(
            lang,
            "The analysis took too many steps and was stopped. Try a narrower question.",
            "분석 단계가 너무 많아서 중단되었어요. 질문 범위를 좁혀 주세요.",
        )
    return pick(
        lang,
        f"The analysis stopped early ({reason or 'unknown reason'}).",
        f"분석이 일찍 끝났어요 ({reason or '알 수 없는 이유'}).",
    )


# ---------------------------------------------------------------- the local engine


def local_kernel_failed(lang: str) -> str:
    """The local engine's Python workspace could not be started."""
    return pick(
        lang,
        "I could not start the Python workspace for this analysis. Please try again in a "
        "moment; if it keeps failing, ask the bot's operator to run `insightbot doctor`.",
        "이 분석에 쓸 파이썬 작업 공간을 시작하지 못했어요. 잠시 후 다시 시도해 주세요. 계속 "
        "실패하면 봇 운영자에게 `insightbot doctor` 실행을 부탁해 주세요.",
    )


def local_max_steps(lang: str, steps: int) -> str:
    """The local engine's model used every Python run it may make for one question."""
    return pick(
        lang,
        f"I stopped after {steps} runs of Python without reaching a final answer. The results "
        "above may be incomplete: ask a narrower question, or ask me to continue.",
        f"파이썬을 {steps}번 실행했지만 최종 답에 이르지 못해 멈췄어요. 위 결과는 불완전할 수 "
        "있어요. 질문을 좁혀 주시거나 이어서 해 달라고 말씀해 주세요.",
    )


_LIMITS = {
    "time": (
        "it ran longer than the time allowed for one step",
        "한 단계에 허용된 시간을 넘겼어요",
    ),
    "memory": ("it needed more memory than allowed", "허용된 메모리보다 많이 필요했어요"),
    "processes": ("it started too many processes", "프로세스를 너무 많이 만들었어요"),
    "file_size": ("it wrote a file larger than allowed", "허용된 크기보다 큰 파일을 썼어요"),
    "disk": ("its files took more space than allowed", "파일이 허용된 공간보다 커졌어요"),
    "cpu": ("it used up the processor time allowed", "허용된 처리 시간을 다 썼어요"),
    "crash": (
        "the Python process stopped unexpectedly",
        "파이썬 프로세스가 예기치 않게 멈췄어요",
    ),
}


def local_limit(lang: str, limit: str) -> str:
    """Why the local engine stopped a piece of analysis code (``limit``: a name from
    bot/engines/local/limits.py); the sandbox was restarted with the thread's files."""
    en, ko = _LIMITS.get(limit, _LIMITS["crash"])
    return pick(
        lang,
        f"I stopped the analysis code because {en}. The workspace was restarted with your "
        "files; anything computed before is gone.",
        f"분석 코드를 멈췄어요: {ko}. 작업 공간을 파일과 함께 다시 시작했어요. 앞서 계산한 내용은 "
        "사라졌어요.",
    )


_BY_CODE: dict[FailureCode, Callable[[str], str]] = {
    FailureCode.RATE_LIMITED: engine_rate_limited,
    FailureCode.INSUFFICIENT_QUOTA: engine_quota_exhausted,
    FailureCode.AUTH: engine_key_refused,
    FailureCode.UNAVAILABLE: engine_unavailable,
    FailureCode.CONTAINER_EXPIRED: sandbox_expired,
    FailureCode.ENGINE_ERROR: engine_failed,
    FailureCode.OUTCOME_UNKNOWN: engine_lost_at_start,
    FailureCode.CANCELLED: run_cancelled,
    FailureCode.STREAM_LOST: stream_lost,
    FailureCode.NOT_RESUMABLE: run_not_resumable,
    FailureCode.KERNEL_FAILED: local_kernel_failed,
    FailureCode.CRASHED: unexpected,
    FailureCode.NO_OUTCOME: unexpected,
}

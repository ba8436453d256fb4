"""Words of a turn in the thread: progress, queue notices, which files were used, the answer's
extras, and how a turn ended (stopped, timed out, failed, interrupted)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages._lang import megabytes, mention, pick, when
from bot.messages.files import supported_types
from bot.types import OVER_FILE_LIMIT, OVER_TURN_LIMIT

# ---------------------------------------------------------------- progress


def status_text(lang: str) -> str:
    return pick(lang, "is analyzing your data…", "데이터를 분석하고 있어요…")


def loading_messages(lang: str) -> list[str]:
    if lang == "ko":
        return ["파일을 읽는 중…", "Python 코드를 실행하는 중…", "답변을 정리하는 중…"]
    return ["Reading your files…", "Running Python…", "Writing the answer…"]


def task_title(lang: str, step: str) -> str:
    """The title of a progress step: ``step`` is files, start, python or answer."""
    titles = {
        "files": ("Reading files", "파일 읽기"),
        "start": ("Starting the analysis", "분석 시작"),
        "python": ("Running Python", "Python 실행"),
        "answer": ("Writing the answer", "답변 작성"),
    }
    en, ko = titles[step]
    return pick(lang, en, ko)


def working(lang: str) -> str:
    return pick(
        lang,
        "Working on it; the answer will appear in this thread. Press Stop to cancel.",
        "분석 중이에요. 답변은 이 스레드에 올라와요. 취소하려면 중지를 누르세요.",
    )


def queued_in_thread(lang: str) -> str:
    return pick(
        lang,
        "I'm still working on the previous question in this thread; I'll answer this one next.",
        "이 스레드의 이전 질문을 처리하는 중이에요. 끝나면 바로 이어서 답할게요.",
    )


def queued_globally(lang: str, position: int) -> str:
    return pick(
        lang,
        f"Many analyses are running right now; yours is number {position} in line and starts "
        "automatically.",
        f"지금 분석이 많이 진행 중이에요. 대기 순서 {position}번째이며, 차례가 되면 자동으로 시작해요.",
    )


# ---------------------------------------------------------------- the turn's files


def no_files(lang: str) -> str:
    supported = supported_types(lang)
    return pick(
        lang,
        "I don't see a data file in this thread or recently in this channel. Attach a file to "
        f"your message (supported: {supported}) and ask again.",
        "이 스레드나 채널에서 최근 공유된 데이터 파일을 찾지 못했어요. 메시지에 파일을 첨부해서 "
        f"다시 물어봐 주세요 (지원 형식: {supported}).",
    )


def empty_question(lang: str) -> str:
    """The question asked for someone who mentioned the bot with files and no words."""
    return pick(
        lang,
        "Give me a summary of this data: its columns, their types, a few key statistics and "
        "anything that looks unusual.",
        "이 데이터를 요약해 주세요: 열, 자료형, 주요 통계, 눈에 띄는 점.",
    )


def picked_channel_files(
    lang: str, picks: Sequence[tuple[str, str | None, str]], others: Sequence[str]
) -> str:
    """Say which channel files were picked: (name, user id, shared ts) each, and what else there is."""
    lines = []
    for name, user, ts in picks:
        shared = when(ts)
        who = mention(user) if user else pick(lang, "someone", "누군가")
        lines.append(
            pick(
                lang,
                f"No file in this thread, so I'm using *{name}*, shared by {who} on {shared}.",
                f"이 스레드에 파일이 없어서 {who} 님이 {shared}에 공유한 *{name}* 파일을 사용할게요.",
            )
        )
    if others:
        listed = ", ".join(others[:5])
        lines.append(
            pick(
                lang,
                f"To use another file instead, name it in your question (recent: {listed}).",
                f"다른 파일을 쓰려면 질문에 파일 이름을 적어 주세요 (최근 파일: {listed}).",
            )
        )
    return "\n".join(lines)


def left_out_files(lang: str, names: Sequence[str], limit: int) -> str:
    listed = ", ".join(names)
    return pick(
        lang,
        f"This thread has more files than the sandbox holds ({limit}); I used the files on your "
        f"message, the ones you named, then the newest, and left out: {listed}.",
        f"이 스레드의 파일이 한도({limit}개)보다 많아 메시지에 첨부한 파일, 질문에 적은 파일, "
        f"최신 파일 순으로 사용했어요. 제외된 파일: {listed}.",
    )


def file_problems(lang: str, problems: Sequence[str]) -> str:
    header = pick(lang, "Some files could not be used:", "사용할 수 없는 파일이 있어요:")
    return header + "\n" + "\n".join(f"• {p}" for p in problems)


# ---------------------------------------------------------------- the answer's extras


def empty_answer(lang: str) -> str:
    """Shown in place of an answer that came back with no text at all."""
    return pick(lang, "(no text)", "(내용 없음)")


def chart_alt_text(lang: str, chart: str, question: str) -> str:
    """A chart's description for screen readers: its name and the question it answers."""
    return pick(lang, f"{chart} — chart for: {question}", f"{chart} — 질문에 대한 차트: {question}")


def artifacts_not_posted(lang: str, names: Sequence[str]) -> str:
    listed = ", ".join(names)
    return pick(
        lang,
        f"Slack did not accept these files from the analysis: {listed}. Ask again to get them.",
        f"분석 결과 파일을 Slack에 올리지 못했어요: {listed}. 다시 질문하면 다시 만들어 드릴게요.",
    )


def generated_files_withheld(lang: str, files: Sequence[tuple[str, str, int | None, int]]) -> str:
    """Files the analysis produced that were not posted: (name, reason, size, limit) each.

    ``reason`` is OVER_FILE_LIMIT, OVER_TURN_LIMIT or LONGER_THAN_DECLARED (bot.types).
    """
    lines = [
        pick(
            lang,
            "I did not post these files from the analysis:",
            "분석 결과 중 다음 파일은 올리지 않았어요:",
        )
    ]
    for name, reason, size, limit in files:
        shown = f"{name} ({megabytes(size)})" if size is not None else name
        lines.append(f"• {shown}: {_why_withheld(lang, reason, limit)}")
    lines.append(
        pick(
            lang,
            "Ask for a smaller file (fewer rows or columns, or a summary) to get it here.",
            "더 작은 파일(행이나 열을 줄이거나 요약)로 요청하면 여기에 올려 드릴게요.",
        )
    )
    return "\n".join(lines)


def _why_withheld(lang: str, reason: str, limit: int) -> str:
    if reason == OVER_FILE_LIMIT:
        return pick(
            lang,
            f"larger than the limit of {megabytes(limit)} per file",
            f"파일 하나의 한도 {megabytes(limit)}를 넘어요",
        )
    if reason == OVER_TURN_LIMIT:
        return pick(
            lang,
            f"the files of one answer may total at most {megabytes(limit)}",
            f"한 답변의 파일은 합쳐서 {megabytes(limit)}까지만 올릴 수 있어요",
        )
    return pick(
        lang,
        "it turned out larger than the sandbox said, so I stopped its download",
        "샌드박스가 알려 준 크기보다 커서 내려받기를 중단했어요",
    )


# ---------------------------------------------------------------- how a turn ended


def failure(lang: str, message: str, reference: str) -> str:
    """The frame of every failure told in a thread; ``message`` is already in ``lang``.
    ``reference`` (the turn id, on every log line of the turn) lets the operator find the
    cause, host names included, without showing them to the channel."""
    return pick(
        lang,
        f":warning: I could not finish this analysis. {message} (reference: {reference})",
        f":warning: 분석을 끝내지 못했어요. {message} (참조 번호: {reference})",
    )


def stopped(lang: str, user: str | None) -> str:
    """Who pressed Stop (a Slack user id; None when nobody knows)."""
    who = mention(user) if user else pick(lang, "someone", "누군가")
    return pick(
        lang,
        f"Stopped by {who}. Nothing more will be posted for this question.",
        f"{who} 님이 분석을 중지했어요.",
    )


def timed_out(lang: str, limit_s: float) -> str:
    minutes = max(1, round(limit_s / 60))
    return pick(
        lang,
        f"The analysis took longer than {minutes} min, so I stopped it. Try a narrower question, "
        "or press Retry to run it again.",
        f"분석이 {minutes}분을 넘겨서 중지했어요. 질문 범위를 좁히거나 다시 시도를 눌러 주세요.",
    )


def outcome_unknown_after_restart(lang: str) -> str:
    return pick(
        lang,
        "Sorry, I was restarted just as the analysis was starting, and I cannot tell whether it "
        "ran. Press Retry to run it.",
        "죄송해요, 분석을 시작하는 순간 재시작되어 실행 여부를 알 수 없어요. 다시 시도를 눌러 주세요.",
    )


def interrupted(lang: str) -> str:
    return pick(
        lang,
        "Sorry, I was restarted while working on this and could not pick the analysis up again. "
        "Press Retry to run it again.",
        "죄송해요, 분석 중에 재시작되어 이어서 진행할 수 없었어요. 다시 시도를 눌러 주세요.",
    )


def unexpected(lang: str) -> str:
    return pick(
        lang,
        "Something went wrong on my side while answering. Please try again; if it keeps "
        "happening, tell the person who runs this bot.",
        "답변하는 중에 문제가 생겼어요. 다시 시도해 주세요. 계속되면 봇 관리자에게 알려 주세요.",
    )


def went_wrong(lang: str) -> str:
    """What an error of ours says when its raise site gave no words of its own."""
    return pick(
        lang,
        "Something went wrong on my side. Please try again in a moment.",
        "제 쪽에서 문제가 생겼어요. 잠시 후 다시 시도해 주세요.",
    )


def database_unreachable(lang: str) -> str:
    return pick(
        lang,
        "I could not reach my own database. Please try again in a moment.",
        "제 데이터베이스에 접근하지 못했어요. 잠시 후 다시 시도해 주세요.",
    )

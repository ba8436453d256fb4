"""The fixed texts the bot shows in Slack, in the user's language (Korean or English).

Pure functions: the language is chosen from the user's own words. Mentions and date tokens
come from `_mention` and `_when` only: they mark the bot's own markup so that it survives the
escaping every text gets on its way to Slack (bot/slack/neutralize.py), while the same
characters in names, questions or answers are shown as typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.slack.neutralize import trusted_date, trusted_mention
from bot.types import OVER_FILE_LIMIT, OVER_TURN_LIMIT

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def language_of(text: str) -> str:
    """'ko' when the text contains Hangul, else 'en'."""
    return "ko" if _HANGUL.search(text or "") else "en"


def _pick(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def status_text(lang: str) -> str:
    return _pick(lang, "is analyzing your data…", "데이터를 분석하고 있어요…")


def loading_messages(lang: str) -> list[str]:
    if lang == "ko":
        return ["파일을 읽는 중…", "Python 코드를 실행하는 중…", "답변을 정리하는 중…"]
    return ["Reading your files…", "Running Python…", "Writing the answer…"]


def task_title(step: str, lang: str) -> str:
    titles = {
        "files": ("Reading files", "파일 읽기"),
        "start": ("Starting the analysis", "분석 시작"),
        "python": ("Running Python", "Python 실행"),
        "answer": ("Writing the answer", "답변 작성"),
    }
    en, ko = titles[step]
    return _pick(lang, en, ko)


def queued_in_thread(lang: str) -> str:
    return _pick(
        lang,
        "I'm still working on the previous question in this thread; I'll answer this one next.",
        "이 스레드의 이전 질문을 처리하는 중이에요. 끝나면 바로 이어서 답할게요.",
    )


def queued_globally(lang: str, position: int) -> str:
    return _pick(
        lang,
        f"Many analyses are running right now; yours is number {position} in line and starts "
        "automatically.",
        f"지금 분석이 많이 진행 중이에요. 대기 순서 {position}번째이며, 차례가 되면 자동으로 시작해요.",
    )


def no_files(lang: str, supported: str) -> str:
    return _pick(
        lang,
        "I don't see a data file in this thread or recently in this channel. Attach a file to "
        f"your message (supported: {supported}) and ask again.",
        "이 스레드나 채널에서 최근 공유된 데이터 파일을 찾지 못했어요. 메시지에 파일을 첨부해서 "
        f"다시 물어봐 주세요 (지원 형식: {supported}).",
    )


def empty_question(lang: str) -> str:
    return _pick(
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
        when = _when(ts)
        who = _mention(user) if user else _pick(lang, "someone", "누군가")
        lines.append(
            _pick(
                lang,
                f"No file in this thread, so I'm using *{name}*, shared by {who} on {when}.",
                f"이 스레드에 파일이 없어서 {who} 님이 {when}에 공유한 *{name}* 파일을 사용할게요.",
            )
        )
    if others:
        listed = ", ".join(others[:5])
        lines.append(
            _pick(
                lang,
                f"To use another file instead, name it in your question (recent: {listed}).",
                f"다른 파일을 쓰려면 질문에 파일 이름을 적어 주세요 (최근 파일: {listed}).",
            )
        )
    return "\n".join(lines)


def left_out_files(lang: str, names: Sequence[str], limit: int) -> str:
    listed = ", ".join(names)
    return _pick(
        lang,
        f"This thread has more files than the sandbox holds ({limit}); I used the files on your "
        f"message, the ones you named, then the newest, and left out: {listed}.",
        f"이 스레드의 파일이 한도({limit}개)보다 많아 메시지에 첨부한 파일, 질문에 적은 파일, "
        f"최신 파일 순으로 사용했어요. 제외된 파일: {listed}.",
    )


def file_problems(lang: str, problems: Sequence[str]) -> str:
    header = _pick(lang, "Some files could not be used:", "사용할 수 없는 파일이 있어요:")
    return header + "\n" + "\n".join(f"• {p}" for p in problems)


def failure(lang: str, message: str) -> str:
    return _pick(lang, f":warning: {message}", f":warning: {message}")


def stopped(lang: str, user: str) -> str:
    return _pick(
        lang,
        f"Stopped by {_mention(user)}. Nothing more will be posted for this question.",
        f"{_mention(user)} 님이 분석을 중지했어요.",
    )


def working(lang: str) -> str:
    return _pick(
        lang,
        "Working on it; the answer will appear in this thread. Press Stop to cancel.",
        "분석 중이에요. 답변은 이 스레드에 올라와요. 취소하려면 중지를 누르세요.",
    )


def stop_label(lang: str) -> str:
    return _pick(lang, "Stop", "중지")


def retry_label(lang: str) -> str:
    return _pick(lang, "Retry", "다시 시도")


def show_code_label(lang: str) -> str:
    return _pick(lang, "Show code", "코드 보기")


def retrying(lang: str, user: str) -> str:
    return _pick(
        lang,
        f"Trying again, as {_mention(user)} asked…",
        f"{_mention(user)} 님의 요청으로 다시 시도하는 중…",
    )


def not_allowed_to_stop(lang: str, asker: str) -> str:
    return _pick(
        lang,
        f"Only {_mention(asker)} (who asked) or an admin of this bot can stop this analysis.",
        f"이 분석은 질문한 {_mention(asker)} 님이나 봇 관리자만 중지할 수 있어요.",
    )


def already_finished(lang: str) -> str:
    return _pick(lang, "That analysis has already finished.", "그 분석은 이미 끝났어요.")


def no_code(lang: str) -> str:
    return _pick(lang, "No code ran for this answer.", "이 답변에는 실행된 코드가 없어요.")


def timed_out(lang: str, limit_s: float) -> str:
    minutes = max(1, round(limit_s / 60))
    return _pick(
        lang,
        f"The analysis took longer than {minutes} min, so I stopped it. Try a narrower question, "
        "or press Retry to run it again.",
        f"분석이 {minutes}분을 넘겨서 중지했어요. 질문 범위를 좁히거나 다시 시도를 눌러 주세요.",
    )


def outcome_unknown_after_restart(lang: str) -> str:
    return _pick(
        lang,
        "Sorry, I was restarted just as the analysis was starting, and I cannot tell whether it "
        "ran. Press Retry to run it.",
        "죄송해요, 분석을 시작하는 순간 재시작되어 실행 여부를 알 수 없어요. 다시 시도를 눌러 주세요.",
    )


def artifacts_not_posted(lang: str, names: Sequence[str]) -> str:
    listed = ", ".join(names)
    return _pick(
        lang,
        f"Slack did not accept these files from the analysis: {listed}. Ask again to get them.",
        f"분석 결과 파일을 Slack에 올리지 못했어요: {listed}. 다시 질문하면 다시 만들어 드릴게요.",
    )


def interrupted(lang: str) -> str:
    return _pick(
        lang,
        "Sorry, I was restarted while working on this and could not pick the analysis up again. "
        "Press Retry to run it again.",
        "죄송해요, 분석 중에 재시작되어 이어서 진행할 수 없었어요. 다시 시도를 눌러 주세요.",
    )


def unexpected(lang: str) -> str:
    return _pick(
        lang,
        "Something went wrong on my side while answering. Please try again; if it keeps "
        "happening, tell the person who runs this bot.",
        "답변하는 중에 문제가 생겼어요. 다시 시도해 주세요. 계속되면 봇 관리자에게 알려 주세요.",
    )


def _when(ts: str) -> str:
    """Slack's date token: shown in each reader's own time zone, with a UTC fallback."""
    try:
        seconds = int(float(ts))
    except ValueError:
        return ts
    fallback = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return trusted_date(seconds, fallback)


def generated_files_withheld(lang: str, files: Sequence[tuple[str, str, int | None, int]]) -> str:
    """Files the analysis produced that were not posted: (name, reason, size, limit) each.

    ``reason`` is OVER_FILE_LIMIT, OVER_TURN_LIMIT or LONGER_THAN_DECLARED (bot.types).
    """
    lines = [
        _pick(
            lang,
            "I did not post these files from the analysis:",
            "분석 결과 중 다음 파일은 올리지 않았어요:",
        )
    ]
    for name, reason, size, limit in files:
        shown = f"{name} ({_megabytes(size)})" if size is not None else name
        if reason == OVER_FILE_LIMIT:
            why = _pick(
                lang,
                f"larger than the limit of {_megabytes(limit)} per file",
                f"파일 하나의 한도 {_megabytes(limit)}를 넘어요",
            )
        elif reason == OVER_TURN_LIMIT:
            why = _pick(
                lang,
                f"the files of one answer may total at most {_megabytes(limit)}",
                f"한 답변의 파일은 합쳐서 {_megabytes(limit)}까지만 올릴 수 있어요",
            )
        else:
            why = _pick(
                lang,
                "it turned out larger than the sandbox said, so I stopped its download",
                "샌드박스가 알려 준 크기보다 커서 내려받기를 중단했어요",
            )
        lines.append(f"• {shown}: {why}")
    lines.append(
        _pick(
            lang,
            "Ask for a smaller file (fewer rows or columns, or a summary) to get it here.",
            "더 작은 파일(행이나 열을 줄이거나 요약)로 요청하면 여기에 올려 드릴게요.",
        )
    )
    return "\n".join(lines)


def _megabytes(size: int) -> str:
    """Bytes in the MB the settings use (1 MB = 1,048,576 bytes), e.g. "300 MB", "0.5 MB"."""
    mb = size / (1024 * 1024)
    if mb >= 10:
        return f"{mb:.0f} MB"
    if mb >= 0.1:
        return f"{mb:.1f} MB".replace(".0 MB", " MB")
    return f"{-(-size // 1024)} KB"


def waiting_for_own_runs(lang: str, limit: int) -> str:
    return _pick(
        lang,
        f"You already have {limit} analyses running, so this question waits and starts "
        "automatically when one of them finishes.",
        f"이미 분석 {limit}개가 진행 중이라 이 질문은 잠시 기다려요. 하나가 끝나면 자동으로 시작해요.",
    )


def too_many_waiting(lang: str, limit: int) -> str:
    return _pick(
        lang,
        f"You already have {limit} questions waiting, so I did not take this one. Ask it again "
        "once some of them have been answered.",
        f"이미 질문 {limit}개가 대기 중이라 이 질문은 받지 않았어요. 앞의 질문에 답이 나온 뒤 "
        "다시 물어봐 주세요.",
    )


def question_too_long(lang: str, limit: int) -> str:
    return _pick(
        lang,
        f"Your question is longer than {limit:,} characters, the most I accept, so I did not "
        "analyse it. Shorten it (put long data in a file) and ask again.",
        f"질문이 최대 길이인 {limit:,}자를 넘어서 분석하지 않았어요. 질문을 줄이고(긴 데이터는 "
        "파일로 첨부해 주세요) 다시 물어봐 주세요.",
    )


def not_allowed_to_retry(lang: str, asker: str) -> str:
    return _pick(
        lang,
        f"Only {_mention(asker)} (who asked) or an admin of this bot can retry this analysis.",
        f"이 분석은 질문한 {_mention(asker)} 님이나 봇 관리자만 다시 시도할 수 있어요.",
    )


def button_not_in_thread(lang: str) -> str:
    return _pick(
        lang,
        "That button does not belong to this analysis's thread, so I did nothing.",
        "이 버튼은 해당 분석의 스레드에 속하지 않아서 아무 것도 하지 않았어요.",
    )


def code_already_posted(lang: str, permalink: str | None) -> str:
    if permalink:
        return _pick(
            lang,
            f"The code for this answer is already posted in this thread: {permalink}",
            f"이 답변의 코드는 이미 이 스레드에 올라와 있어요: {permalink}",
        )
    return _pick(
        lang,
        "The code for this answer is already posted above in this thread.",
        "이 답변의 코드는 이미 이 스레드 위쪽에 올라와 있어요.",
    )


def _mention(user: str) -> str:
    """A mention of a Slack user id; anything else (not an id) is shown as the text it is."""
    return trusted_mention(user) or user


def local_limit(lang: str, limit: str) -> str:
    """Why the local engine stopped a piece of analysis code (``limit``: a name from
    bot/engines/local/limits.py); the sandbox was restarted with the thread's files."""
    words = {
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
    en, ko = words.get(limit, words["crash"])
    return _pick(
        lang,
        f"I stopped the analysis code because {en}. The workspace was restarted with your "
        "files; anything computed before is gone.",
        f"분석 코드를 멈췄어요: {ko}. 작업 공간을 파일과 함께 다시 시작했어요. 앞서 계산한 내용은 "
        "사라졌어요.",
    )


def remote_file(lang: str, name: str) -> str:
    """A file refused because it is only a link (Google Drive, Dropbox, …), never downloaded."""
    return _pick(
        lang,
        f"{name} is a link to a file stored outside Slack (for example in Google Drive), so I "
        "cannot open it; upload the file itself to this thread and ask again.",
        f"{name} 파일은 Slack 밖(예: Google Drive)에 저장된 파일의 링크라서 열 수 없어요. "
        "파일 자체를 이 스레드에 올리고 다시 물어봐 주세요.",
    )


def file_not_on_slack(lang: str, name: str) -> str:
    """A file refused because its download link is not on Slack's file servers."""
    return _pick(
        lang,
        f"I did not download {name}: its link is not on Slack's file servers. Upload the file "
        "itself to this thread and ask again.",
        f"{name} 파일은 링크가 Slack 파일 서버를 가리키지 않아서 내려받지 않았어요. "
        "파일 자체를 이 스레드에 올리고 다시 물어봐 주세요.",
    )


# ---------------------------------------------------------------- files: formats and refusals


def unsupported_file(lang: str, name: str, supported: str) -> str:
    return _pick(
        lang,
        f"I can't analyse *{name}*: it is not a file type I can read (I read {supported}). "
        "Export it as CSV or XLSX and share it again.",
        f"*{name}* 파일은 읽을 수 없는 형식이에요 (읽을 수 있는 형식: {supported}). "
        "CSV나 XLSX로 내보내서 다시 공유해 주세요.",
    )


def empty_workbook(lang: str, name: str) -> str:
    return _pick(
        lang,
        f"*{name}* has no data in it: every sheet is empty. Check that you shared the right "
        "workbook (saved after entering the data) and share it again.",
        f"*{name}* 파일에 데이터가 없어요: 모든 시트가 비어 있어요. 데이터를 입력하고 저장한 "
        "파일이 맞는지 확인한 뒤 다시 공유해 주세요.",
    )


def archive_holds_several(lang: str, name: str, count: int) -> str:
    return _pick(
        lang,
        f"*{name}* holds {count} files; I read compressed files that hold exactly one. Share "
        "the files themselves (or one archive per file) instead.",
        f"*{name}* 안에 파일이 {count}개 있어요. 압축 파일은 파일이 하나만 들어 있어야 읽을 수 "
        "있어요. 파일을 압축하지 않고 그대로 (또는 파일마다 따로 압축해서) 공유해 주세요.",
    )


def archive_is_empty(lang: str, name: str) -> str:
    return _pick(
        lang,
        f"*{name}* is an archive with no file in it. Share the data file itself instead.",
        f"*{name}* 압축 파일 안에 파일이 없어요. 데이터 파일을 그대로 공유해 주세요.",
    )


def archive_encrypted(lang: str, name: str) -> str:
    return _pick(
        lang,
        f"*{name}* is protected by a password, so I can't open it. Share the file without "
        "a password (or unzipped) instead.",
        f"*{name}* 파일은 암호로 보호되어 있어 열 수 없어요. 암호 없이 (또는 압축을 풀어서) "
        "다시 공유해 주세요.",
    )


def archive_corrupt(lang: str, name: str) -> str:
    return _pick(
        lang,
        f"*{name}* could not be decompressed: it is damaged or not really a .gz, .bz2, .xz "
        "or .zip file. Compress it again (or share the file uncompressed).",
        f"*{name}* 파일의 압축을 풀 수 없어요: 파일이 손상되었거나 실제로는 .gz, .bz2, .xz, "
        ".zip 파일이 아니에요. 다시 압축하거나 압축하지 않은 파일을 공유해 주세요.",
    )


def archive_too_large(lang: str, name: str, limit_mb: int) -> str:
    return _pick(
        lang,
        f"*{name}* expands to more than {limit_mb} MB, over the size limit for one file. "
        "Share a smaller extract (fewer rows or columns) instead.",
        f"*{name}* 파일은 압축을 풀면 {limit_mb}MB를 넘어 파일 하나의 크기 제한을 넘어요. "
        "행이나 열을 줄인 일부만 공유해 주세요.",
    )


def archive_inner_unsupported(lang: str, name: str, inner: str, supported: str) -> str:
    return _pick(
        lang,
        f"*{name}* holds *{inner}*, which is not a file type I can read (I read {supported}). "
        "Name the file inside for its format (for example sales.csv.gz), or export it as CSV "
        "or XLSX and share it again.",
        f"*{name}* 안의 *{inner}* 파일은 읽을 수 없는 형식이에요 (읽을 수 있는 형식: "
        f"{supported}). 안의 파일 이름에 형식을 붙이거나 (예: sales.csv.gz) CSV나 XLSX로 "
        "내보내서 다시 공유해 주세요.",
    )


def local_max_steps(lang: str, steps: int) -> str:
    """The local engine's model used every Python run it may make for one question."""
    return _pick(
        lang,
        f"I stopped after {steps} runs of Python without reaching a final answer. The results "
        "above may be incomplete: ask a narrower question, or ask me to continue.",
        f"파이썬을 {steps}번 실행했지만 최종 답에 이르지 못해 멈췄어요. 위 결과는 불완전할 수 "
        "있어요. 질문을 좁혀 주시거나 이어서 해 달라고 말씀해 주세요.",
    )


def local_kernel_failed(lang: str) -> str:
    """The local engine's Python workspace could not be started."""
    return _pick(
        lang,
        "I could not start the Python workspace for this analysis. Please try again in a "
        "moment; if it keeps failing, ask the bot's operator to run `insightbot doctor`.",
        "이 분석에 쓸 파이썬 작업 공간을 시작하지 못했어요. 잠시 후 다시 시도해 주세요. 계속 "
        "실패하면 봇 운영자에게 `insightbot doctor` 실행을 부탁해 주세요.",
    )

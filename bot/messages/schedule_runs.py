"""What a scheduled run says besides its answer: a skipped run's line, files of a "same files"
schedule that are gone, a run a restart interrupted, and the schedules "forget" leaves alone.

Pure functions taking ``lang`` first, like every entry of the catalogue. Patterns and file
names are the person's words: they are shown as typed (the gateway neutralises them) and
bounded here, so that one odd name cannot fill the channel.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages._lang import pick

_MAX_NAME = 80  # characters of a pattern or file name shown in a line


def _bounded(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_NAME else flat[: _MAX_NAME - 1] + "…"


def schedule_skipped(lang: str, reason: str, pattern: str, last_file: str | None) -> str:
    """``reason``: "unchanged" (the newest matching file is the one the last run used) or
    "no_file" (no file named like the pattern in the channel)."""
    shown = _bounded(pattern)
    if reason == "unchanged" and last_file:
        name = _bounded(last_file)
        return pick(
            lang,
            f"Scheduled analysis skipped: no new file named like {shown} since {name}.",
            f"예약 분석을 건너뛰었어요: {name} 이후 {shown} 형식의 새 파일이 없어요.",
        )
    return pick(
        lang,
        f"Scheduled analysis skipped: no file named like {shown} in this channel.",
        f"예약 분석을 건너뛰었어요: 이 채널에 {shown} 형식의 파일이 없어요.",
    )


def schedule_files_gone(lang: str, names: Sequence[str]) -> str:
    shown = ", ".join(_bounded(n) for n in names[:5]) + (", …" if len(names) > 5 else "")
    return pick(
        lang,
        f"I did not run this analysis: {shown} was deleted in Slack or is no longer visible "
        "to me, and this schedule always uses the same files. Make the schedule again from an "
        'answer with the option "the newest file in this channel named like …", so that each '
        "run uses the latest file.",
        f"이 분석은 실행하지 않았어요: {shown} 파일이 Slack에서 삭제되었거나 더 이상 저에게 "
        '보이지 않는데, 이 예약은 항상 같은 파일을 사용해요. 답변에서 "이 채널에서 이름이 …와 '
        '같은 가장 최근 파일" 옵션으로 예약을 다시 만들어 주세요. 그러면 실행할 때마다 가장 '
        "최근 파일을 사용해요.",
    )


def schedule_run_interrupted(lang: str) -> str:
    return pick(
        lang,
        "This scheduled run was interrupted by a restart before it could answer. It will run "
        "again at its next scheduled time.",
        "이 예약 실행은 답변하기 전에 재시작으로 중단되었어요. 다음 예약 시간에 다시 실행돼요.",
    )


def schedule_run_interrupted_before_start(lang: str) -> str:
    return pick(
        lang,
        "This scheduled run was interrupted by a restart before it started. It will run again "
        "at its next scheduled time.",
        "이 예약 실행은 시작하기 전에 재시작으로 중단되었어요. 다음 예약 시간에 다시 실행돼요.",
    )


def forget_keeps_schedules(lang: str, ids: Sequence[int]) -> str:
    count = len(ids)
    listed = ", ".join(str(i) for i in ids)
    return pick(
        lang,
        f"{count} recurring analys{'es' if count != 1 else 'is'} made from this thread "
        f"still exist{'' if count != 1 else 's'} and keep{'' if count != 1 else 's'} running "
        f"(ID {listed}). To stop {'them' if count != 1 else 'it'}, delete "
        f"{'them' if count != 1 else 'it'} in my App Home, or ask an operator to run "
        "`insightbot schedules delete ID`.",
        f"이 스레드에서 만든 반복 분석 {count}개는 그대로 남아 계속 실행돼요 (ID {listed}). "
        "멈추려면 제 앱 홈에서 삭제하거나, 운영자에게 `insightbot schedules delete ID` 실행을 "
        "요청해 주세요.",
    )

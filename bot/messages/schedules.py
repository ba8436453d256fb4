"""Recurring analyses' texts (a scheduled run's message and its notes), in Korean and English.

Pure functions taking ``lang`` first, like every entry of the catalogue. The person's name is
shown as a name, never as a mention: nobody is pinged at every run.
"""

from __future__ import annotations

from bot.messages._lang import pick


def scheduled_by(lang: str, name: str, question: str) -> str:
    return pick(lang, f"Scheduled by {name}: {question}", f"{name} 님의 예약 질문: {question}")


def scheduled_file(lang: str, file_name: str) -> str:
    return pick(
        lang, f"Using the newest file: {file_name}", f"가장 최근 파일을 사용합니다: {file_name}"
    )


def scheduled_runs_missed(lang: str, count: int) -> str:
    return pick(
        lang,
        f"{count} earlier scheduled run{'s' if count != 1 else ''} did not happen while the "
        "bot was down.",
        f"봇이 멈춰 있던 동안 예약 실행 {count}번이 이루어지지 않았습니다.",
    )

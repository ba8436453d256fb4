"""The lines ``insightbot ask`` shows in a terminal, in the language of the question: its
progress (stderr), what it saved (stdout) and why it stopped."""

from __future__ import annotations

from bot.messages._lang import pick
from bot.messages.files import supported_types


def cli_problem(lang: str, text: str) -> str:
    """A reason the command stopped (``text`` is already in ``lang``), after the program name."""
    return pick(lang, f"insightbot: {text}", f"insightbot: 오류: {text}")


def cli_uploading(lang: str) -> str:
    return pick(lang, "• uploading files", "• 파일 올리는 중")


def cli_preparing(lang: str) -> str:
    return pick(lang, "• preparing the sandbox", "• 샌드박스 준비 중")


def cli_left_out(lang: str, name: str) -> str:
    return pick(
        lang, f"• left out (too many files): {name}", f"• 제외됨 (파일이 너무 많음): {name}"
    )


def cli_writing_python(lang: str) -> str:
    return pick(lang, "• writing Python", "• Python 코드 작성 중")


def cli_running_python(lang: str) -> str:
    return pick(lang, "\n• running Python", "\n• Python 실행 중")


def cli_saved(lang: str, path: str) -> str:
    return pick(lang, f"saved: {path}", f"저장함: {path}")


def cli_no_such_file(lang: str, path: str) -> str:
    return pick(lang, f"{path}: no such file.", f"{path}: 파일이 없어요.")


def cli_unreadable(lang: str, path: str, why: str) -> str:
    """``why`` is the operating system's own reason (``strerror``)."""
    return pick(lang, f"{path}: cannot be read ({why}).", f"{path}: 읽을 수 없어요 ({why}).")


def cli_unsupported(lang: str, path: str) -> str:
    supported = supported_types(lang)
    return pick(
        lang,
        f"{path}: not a supported type. Supported: {supported}.",
        f"{path}: 지원하지 않는 형식이에요. 지원 형식: {supported}.",
    )


def cli_too_large(lang: str, path: str, size: int, max_bytes: int) -> str:
    return pick(
        lang,
        f"{path}: {size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit "
        "(INSIGHTBOT_MAX_FILE_MB).",
        f"{path}: {size / 1e6:.0f} MB로 한도 {max_bytes / 1e6:.0f} MB를 넘어요 "
        "(INSIGHTBOT_MAX_FILE_MB).",
    )


def cli_is_a_folder(lang: str, path: str) -> str:
    return pick(
        lang,
        f"{path}: is a folder; name the data files in it instead.",
        f"{path}: 폴더예요. 폴더 안의 데이터 파일 이름을 적어 주세요.",
    )


def cli_out_not_a_folder(lang: str, path: str) -> str:
    return pick(
        lang,
        f"--out {path}: is a file, not a folder; name a folder for the charts and files.",
        f"--out {path}: 폴더가 아니라 파일이에요. 차트와 파일을 저장할 폴더를 적어 주세요.",
    )


def cli_out_unwritable(lang: str, path: str, why: str) -> str:
    """``why`` is the operating system's own reason."""
    return pick(
        lang,
        f"--out {path}: cannot write there ({why}); name a folder you may write to.",
        f"--out {path}: 그곳에 쓸 수 없어요 ({why}). 쓸 수 있는 폴더를 적어 주세요.",
    )


def cli_save_failed(lang: str, path: str, why: str) -> str:
    return pick(
        lang,
        f"could not save the files into {path} ({why}); the answer above is complete.",
        f"{path}에 파일을 저장하지 못했어요 ({why}). 위의 답변은 그대로예요.",
    )


def cli_new_thread(lang: str, name: str) -> str:
    return pick(
        lang,
        f"• new conversation {name!r} (continue it with --thread {name})",
        f"• 새 대화 {name!r} (--thread {name}로 이어서 물어볼 수 있어요)",
    )


def cli_continuing(lang: str, name: str, files: str) -> str:
    return pick(
        lang,
        f"• continuing conversation {name!r} with its files: {files}",
        f"• 대화 {name!r}를 이어서 진행해요. 파일: {files}",
    )


def cli_no_files(lang: str) -> str:
    return pick(
        lang,
        "name at least one data file (or continue a conversation with --thread NAME).",
        "데이터 파일을 하나 이상 적어 주세요 (또는 --thread 이름으로 이전 대화를 이어 주세요).",
    )

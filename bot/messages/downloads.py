"""Why a Slack file could not be fetched: a link off Slack, a deleted file, a refusal, a login
page in its place, a size over the limit. The words of the download's ``FileProblem``s."""

from __future__ import annotations

from bot.messages._lang import pick

_ACCESS_HINT = (
    "Please invite the app to this channel (`/invite @app`) and make sure it has the "
    "files:read permission, then ask again.",
    "앱을 이 채널에 초대하고(`/invite @앱이름`) files:read 권한이 있는지 확인한 뒤 다시 "
    "물어봐 주세요.",
)


def _hint(lang: str) -> str:
    return pick(lang, *_ACCESS_HINT)


def remote_file(lang: str, name: str) -> str:
    """A file refused because it is only a link (Google Drive, Dropbox, …), never downloaded."""
    return pick(
        lang,
        f"{name} is a link to a file stored outside Slack (for example in Google Drive), so I "
        "cannot open it; upload the file itself to this thread and ask again.",
        f"{name} 파일은 Slack 밖(예: Google Drive)에 저장된 파일의 링크라서 열 수 없어요. "
        "파일 자체를 이 스레드에 올리고 다시 물어봐 주세요.",
    )


def file_not_on_slack(lang: str, name: str) -> str:
    """A file refused because its download link is not on Slack's file servers."""
    return pick(
        lang,
        f"I did not download {name}: its link is not on Slack's file servers. Upload the file "
        "itself to this thread and ask again.",
        f"{name} 파일은 링크가 Slack 파일 서버를 가리키지 않아서 내려받지 않았어요. "
        "파일 자체를 이 스레드에 올리고 다시 물어봐 주세요.",
    )


def no_download_link(lang: str, name: str) -> str:
    return pick(
        lang,
        f"Slack did not give me a download link for {name}. If it was shared from another "
        "workspace (Slack Connect), please upload it again in this conversation.",
        f"Slack이 {name} 파일의 다운로드 링크를 주지 않았어요. 다른 워크스페이스(Slack Connect)"
        "에서 공유된 파일이라면 이 대화에 다시 올려 주세요.",
    )


def file_deleted(lang: str, name: str) -> str:
    return pick(
        lang,
        f"{name} was deleted or is no longer visible to me. Please share it again in this thread.",
        f"{name} 파일이 삭제되었거나 더 이상 저에게 보이지 않아요. 이 스레드에 다시 공유해 주세요.",
    )


def file_too_large(lang: str, name: str, max_bytes: int) -> str:
    limit_mb = max_bytes / (1024 * 1024)
    if limit_mb >= 1:
        shown = f"{limit_mb:.0f} MB"
    else:
        shown = pick(lang, f"{max_bytes} bytes", f"{max_bytes}바이트")
    return pick(
        lang,
        f"{name} is larger than my limit of {shown}. Please share a smaller file "
        "(for example, only the columns or rows you need).",
        f"{name} 파일이 크기 제한({shown})보다 커요. 필요한 열이나 행만 남긴 더 작은 파일을 "
        "공유해 주세요.",
    )


def download_broke_off(lang: str, name: str) -> str:
    return pick(
        lang,
        f"The download of {name} from Slack broke off. Please try again in a moment.",
        f"Slack에서 {name} 파일을 내려받다가 연결이 끊겼어요. 잠시 후 다시 시도해 주세요.",
    )


def download_redirected(lang: str, name: str) -> str:
    return pick(
        lang,
        f"Slack sent me to a login page instead of {name}. {_hint(lang)}",
        f"Slack이 {name} 파일 대신 로그인 페이지로 보냈어요. {_hint(lang)}",
    )


def download_refused(lang: str, name: str) -> str:
    return pick(
        lang,
        f"Slack refused to give me {name}. {_hint(lang)}",
        f"Slack이 {name} 파일을 주지 않았어요. {_hint(lang)}",
    )


def download_failed(lang: str, name: str, status: int) -> str:
    return pick(
        lang,
        f"Slack could not send me {name} right now (HTTP {status}). Please try again in a moment.",
        f"Slack이 지금 {name} 파일을 보내지 못했어요 (HTTP {status}). 잠시 후 다시 시도해 주세요.",
    )


def download_web_page(lang: str, name: str) -> str:
    return pick(
        lang,
        f"Slack sent me a web page (probably a login page) instead of {name}. {_hint(lang)}",
        f"Slack이 {name} 파일 대신 웹 페이지(아마 로그인 페이지)를 보냈어요. {_hint(lang)}",
    )

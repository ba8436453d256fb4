"""Where the bot token may go: Slack's own file hosts, over https, and nowhere else (pure).

A Slack file object names its download URL, and for a remote file (a Google Drive link, a file
another app added with ``files.remote.add``) ``url_private`` is the file's external URL on any
host: Slack warns never to send a token there. Any app in the workspace, or a partner's app in
a Slack Connect channel, could otherwise collect the token by sharing a "file" called
``sales.csv``. So remote files are never downloaded, and every other URL must name one of
Slack's file hosts exactly before a request is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from yarl import URL

from bot.config import Settings

__all__ = ["DEFAULT_FILE_HOST", "FileHostPolicy", "host_of", "is_remote_file"]

DEFAULT_FILE_HOST = "files.slack.com"
SLACK_API_URL = "https://slack.com/api/"  # Slack's own; any other SLACK_API_URL is a proxy
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters that parsers disagree about (WHATWG reads "\" as "/") or that a URL never needs.
_AMBIGUOUS = frozenset("\\%@ \t\r\n")


def is_remote_file(raw: Mapping[str, Any]) -> bool:
    """Whether a Slack file object is a link to a file stored outside Slack.

    Any one sign counts: ``mode: external``, ``is_external: true``, ``filetype: remote`` or a
    non-empty ``external_type`` (``gdrive``, ``dropbox``, ``app``, …).
    """
    return (
        raw.get("mode") == "external"
        or raw.get("is_external") is True
        or raw.get("filetype") == "remote"
        or bool(raw.get("external_type"))
    )


@dataclass(frozen=True)
class FileHostPolicy:
    """The URLs the bot token may be sent to.

    ``hosts`` are served over https on port 443 only; ``origins`` are exact (scheme, host,
    port) triples, for a non-default SLACK_API_URL (a proxy, or the fake Slack of the tests).
    """

    hosts: frozenset[str] = frozenset({DEFAULT_FILE_HOST})
    origins: frozenset[tuple[str, str, int]] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: Settings) -> FileHostPolicy:
        """``files.slack.com``, the INSIGHTBOT_SLACK_FILE_HOSTS, and a non-default API origin."""
        origins: set[tuple[str, str, int]] = set()
        if settings.slack_api_url != SLACK_API_URL:
            api_origin = _origin_of(settings.slack_api_url)
            if api_origin is not None:
                origins.add(api_origin)
        return cls(
            hosts=frozenset({DEFAULT_FILE_HOST, *settings.slack_file_hosts}),
            origins=frozenset(origins),
        )

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be fetched with the bot token. Hosts compare exactly, lowercased:
        ``files.slack.com.evil.com``, ``files.slack.com@evil.com``, a trailing dot, another port
        or plain http to a Slack file host are all refused."""
        origin = _origin_of(url)
        if origin is None:
            return False
        scheme, host, port = origin
        if scheme == "https" and port == 443 and host in self.hosts:
            return True
        return origin in self.origins


def host_of(url: str) -> str:
    """``'host:port'`` of a URL, for log lines: never the whole URL (it may carry anything)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return repr("?")
    return repr(f"{host}:{port}" if port is not None else host)


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a plain absolute http(s) URL, or None when it is anything else.

    Two parsers (the standard library's and yarl's, which aiohttp uses to connect) must agree,
    and the URL must be printable ASCII without userinfo, escapes or backslashes: a URL that
    could be read two ways is refused rather than guessed at.
    """
    if not url.isascii() or not url.isprintable():
        return None
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        scheme = parts.scheme.lower()
        port = parts.port
        ours = URL(url)
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not netloc or _AMBIGUOUS & set(netloc):
        return None
    host = parts.hostname or ""
    origin = (scheme, host, port if port is not None else _DEFAULT_PORTS[scheme])
    if not host or (ours.scheme, ours.host, ours.port) != origin:
        return None
    return origin

"""Naming a network failure for an operator: which host, and what went wrong (DNS, refused,
TLS, timeout, proxy), with what to check. People in Slack never see these host names."""

from __future__ import annotations

import errno
import socket
import ssl
from urllib.parse import urlsplit

__all__ = ["describe_network_error"]


def describe_network_error(error: BaseException, *, url: str | None = None) -> str:
    """One line: "<host>: <cause> (<what to check>)", from the error and its causes.

    Without ``url`` the host comes from the error itself (aiohttp's connector errors name it).
    """
    host = _host_port(url) if url else _host_in(error)
    # Innermost first: wrappers relabel causes (the SDKs' transports call a refusal a timeout).
    for exc in reversed(_chain(error)):
        cause = _cause_of(exc)
        if cause:
            return f"{host}: {cause}"
    return f"{host}: {type(error).__name__}: {error} (check the URL and the network)"


_TLS_ERRORS = frozenset(
    {"ClientSSLError", "ClientConnectorSSLError", "ClientConnectorCertificateError"}
)


def _cause_of(exc: BaseException) -> str | None:
    name = type(exc).__name__
    code = getattr(exc, "errno", None)
    if isinstance(exc, socket.gaierror) or "DNSError" in name:
        return "the name could not be resolved (check the URL and DNS, or the network)"
    if isinstance(exc, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return "the connection was refused (is the service running on that port?)"
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "the network is unreachable (is this machine online?)"
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return "no answer in time (check the network, a firewall or the proxy)"
    if "Proxy" in name:
        return "the proxy refused or failed (check HTTPS_PROXY/HTTP_PROXY)"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError) or name in _TLS_ERRORS:
        return "the TLS handshake failed (check the URL's scheme and the certificate)"
    return None


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or url}:{port}"


def _host_in(error: BaseException) -> str:
    for exc in _chain(error):
        host, port = getattr(exc, "host", None), getattr(exc, "port", None)
        if isinstance(host, str) and host:
            return f"{host}:{port}" if port else host
    return "the server"


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        nested = getattr(current, "os_error", None)  # aiohttp's connector errors wrap the OSError
        if isinstance(nested, BaseException) and nested not in seen:
            seen.append(nested)
        current = current.__cause__ or current.__context__
    return seen

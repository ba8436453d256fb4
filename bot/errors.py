"""The one error tree of insightbot.

    InsightbotError                 every error we raise; ``user_message`` is what we show
    ├── ConfigError                 a setting is missing or invalid (names the variable)
    ├── FileProblem                 a user's file cannot be used (names the file)
    │   ├── UnsupportedFileType     not a type we analyse
    │   ├── FileTooLarge            over INSIGHTBOT_MAX_FILE_MB
    │   ├── FileUnavailable         deleted, not visible to the bot, or a login page came back
    │   └── FileUnreadable          empty, binary under a text name, or corrupt
    ├── SlackProblem                the Slack Web API refused or failed
    └── EngineError                 the code-interpreter engine failed
        ├── EngineRateLimited       429 that may pass (retry later)
        ├── EngineQuotaExhausted    429 insufficient_quota: not retried, told plainly
        ├── EngineAuthError         401/403: the operator must fix the key
        ├── EngineBadRequest        400/404/422 the engine refused
        ├── EngineUnavailable       5xx, connection errors, timeouts
        ├── ContainerExpired        the sandbox is gone; the engine recreates it
        ├── ResponseFailed          the run ended failed/incomplete/cancelled
        └── OutcomeUnknown          a create whose result we could not see

Every error carries ``user_message``: plain text for the Slack thread or terminal, never a
secret. ``retryable`` says whether trying the same thing again later can help.
"""

from __future__ import annotations

from bot.redact import redact


class InsightbotError(Exception):
    """Base of every error insightbot raises on purpose."""

    default_message = "Something went wrong on my side. Please try again in a moment."
    retryable = False

    def __init__(self, user_message: str | None = None, *, detail: str | None = None) -> None:
        # Details often quote an upstream error, which may echo a key: masked here, once.
        self.user_message = redact(user_message or self.default_message)
        self.detail = redact(detail) if detail is not None else None
        super().__init__(self.detail or self.user_message)


class ConfigError(InsightbotError):
    """A setting is missing or invalid; the message names the variable."""


class FileProblem(InsightbotError):
    """A file a user shared cannot be analysed."""

    def __init__(self, user_message: str, *, file_name: str, detail: str | None = None) -> None:
        self.file_name = file_name
        super().__init__(user_message, detail=detail)


class UnsupportedFileType(FileProblem):
    pass


class FileTooLarge(FileProblem):
    pass


class FileUnavailable(FileProblem):
    pass


class FileUnreadable(FileProblem):
    pass


class SlackProblem(InsightbotError):
    default_message = "Slack did not accept my reply. Please try again in a moment."
    retryable = True


class EngineError(InsightbotError):
    default_message = "The analysis engine failed. Please try again in a moment."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        detail: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.request_id = request_id
        super().__init__(user_message, detail=detail)


class EngineRateLimited(EngineError):
    default_message = (
        "The analysis engine is busy right now (rate limit). Please try again in a minute."
    )
    retryable = True


class EngineQuotaExhausted(EngineError):
    default_message = (
        "The analysis engine's usage quota is used up, so I cannot run analyses right now. "
        "An administrator needs to check the OpenAI plan and billing."
    )


class EngineAuthError(EngineError):
    default_message = (
        "I cannot reach the analysis engine because its API key was refused. "
        "An administrator needs to check OPENAI_API_KEY."
    )


class EngineBadRequest(EngineError):
    default_message = "The analysis engine refused this request."


class EngineUnavailable(EngineError):
    default_message = (
        "The analysis engine is not responding right now. Please try again in a few minutes."
    )
    retryable = True


class ContainerExpired(EngineError):
    default_message = "The analysis sandbox expired; it will be recreated."
    retryable = True


class ResponseFailed(EngineError):
    default_message = "The analysis did not finish."


class OutcomeUnknown(EngineError):
    default_message = (
        "I lost contact with the analysis engine while starting the run and could not tell "
        "whether it started. Please try again."
    )
    retryable = True

"""The one error tree of insightbot.

    InsightbotError                 every error we raise; ``text_for(lang)`` is what we show
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

Every error carries its words for people, never a secret: an entry of the catalogue
(bot/messages/) with its arguments bound (``Words``), given at the raise site or the class's
own. ``text_for(lang)`` says it in the reader's language; ``user_message`` is the English text,
for logs and the terminal. ``failure_code`` is what a turn ended by this error records;
``retryable`` says whether trying the same thing again later can help.
"""

from __future__ import annotations

from typing import ClassVar

from bot import messages
from bot.redact import redact
from bot.types import FailureCode


class InsightbotError(Exception):
    """Base of every error insightbot raises on purpose.

    ``words`` is a catalogue entry waiting for the language (``functools.partial`` of an
    entry); a plain string is shown as it is in every language, which only operator-facing
    errors (ConfigError) should use.
    """

    failure_code: ClassVar[FailureCode] = FailureCode.CRASHED
    retryable = False

    def __init__(
        self, words: messages.Words | str | None = None, *, detail: str | None = None
    ) -> None:
        self._words = words
        # Details often quote an upstream error, which may echo a key: masked here, once.
        self.detail = redact(detail) if detail is not None else None
        self.user_message = self.text_for("en")
        super().__init__(self.detail or self.user_message)

    def text_for(self, lang: str) -> str:
        """What this error says to a person reading ``lang`` ('ko' or 'en')."""
        words = self._words
        if words is None:
            return redact(self._default_words(lang))
        return redact(words if isinstance(words, str) else words(lang))

    def _default_words(self, lang: str) -> str:
        return messages.went_wrong(lang)


class ConfigError(InsightbotError):
    """A setting is missing or invalid; the message names the variable. For the operator,
    in English."""


class FileProblem(InsightbotError):
    """A file a user shared cannot be analysed."""

    failure_code = FailureCode.FILE_PROBLEM

    def __init__(
        self, words: messages.Words | str, *, file_name: str, detail: str | None = None
    ) -> None:
        self.file_name = file_name
        super().__init__(words, detail=detail)


class UnsupportedFileType(FileProblem):
    pass


class FileTooLarge(FileProblem):
    pass


class FileUnavailable(FileProblem):
    pass


class FileUnreadable(FileProblem):
    pass


class SlackProblem(InsightbotError):
    failure_code = FailureCode.SLACK_REFUSED
    retryable = True

    def _default_words(self, lang: str) -> str:
        return messages.slack_reply_refused(lang)


class EngineError(InsightbotError):
    """The engine failed. Its words are the catalogue's for its ``failure_code``
    (``messages.run_failed``), the same words a run's ``Failed`` event gets;
    ``server_words`` is the server's own reason, shown to the asker (a refused request)."""

    failure_code = FailureCode.ENGINE_ERROR

    def __init__(
        self,
        words: messages.Words | str | None = None,
        *,
        detail: str | None = None,
        request_id: str | None = None,
        server_words: str | None = None,
    ) -> None:
        self.request_id = request_id
        self.server_words = redact(server_words) if server_words is not None else None
        super().__init__(words, detail=detail)

    def _default_words(self, lang: str) -> str:
        return messages.run_failed(lang, self.failure_code, detail=self.server_words)


class EngineRateLimited(EngineError):
    failure_code = FailureCode.RATE_LIMITED
    retryable = True


class EngineQuotaExhausted(EngineError):
    failure_code = FailureCode.INSUFFICIENT_QUOTA


class EngineAuthError(EngineError):
    failure_code = FailureCode.AUTH


class EngineBadRequest(EngineError):
    failure_code = FailureCode.BAD_REQUEST


class EngineUnavailable(EngineError):
    failure_code = FailureCode.UNAVAILABLE
    retryable = True


class ContainerExpired(EngineError):
    failure_code = FailureCode.CONTAINER_EXPIRED
    retryable = True


class ResponseFailed(EngineError):
    failure_code = FailureCode.RESPONSE_FAILED


class OutcomeUnknown(EngineError):
    failure_code = FailureCode.OUTCOME_UNKNOWN
    retryable = True

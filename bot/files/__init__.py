"""Files people share: what kind each is, what the model is told about it (encoding,
delimiter, sheets, notes), how it travels to the sandbox, and how it is remembered.

``inspect`` is the entry (``inspect_file``, ``kind_for``); ``encoding``, ``text``, ``shape``,
``sheets`` and ``archives`` read one aspect each; ``packaging`` decides the form a file is
uploaded in; ``records`` converts between stored file records and the engine's files.
"""

from bot.files.inspect import (
    ARCHIVE,
    HEAD_BYTES,
    MAX_EXPANDED_BYTES,
    SUPPORTED_KINDS,
    WRAPPED_KINDS,
    UploadForm,
    inspect_file,
    kind_for,
    model_note,
    safe_display_name,
    sha256_of,
    upload_form_for,
)
from bot.files.records import (
    channel_file_record_for,
    file_record_for,
    record_with_upload,
    slack_file_of,
    uploaded_from_record,
)

__all__ = [
    "ARCHIVE",
    "HEAD_BYTES",
    "MAX_EXPANDED_BYTES",
    "SUPPORTED_KINDS",
    "WRAPPED_KINDS",
    "UploadForm",
    "channel_file_record_for",
    "file_record_for",
    "inspect_file",
    "kind_for",
    "model_note",
    "record_with_upload",
    "safe_display_name",
    "sha256_of",
    "slack_file_of",
    "upload_form_for",
    "uploaded_from_record",
]

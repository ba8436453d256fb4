"""insightbot: data questions in Slack threads, answered by a code interpreter."""

__version__ = "0.1.0"

"""Benchmarks: the real app in HTTP mode against the fake Slack and fake OpenAI on loopback.

Run ``python -m benchmarks.run`` (``--quick`` for a smoke run). Not part of the test suite.
"""

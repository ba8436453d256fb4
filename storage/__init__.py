"""SQLite storage for insightbot: the only package that touches the database.

Use ``await open_store(path)`` to get a ``Store``; the records it reads and writes are in
``storage.records``.
"""

from storage._db import StorageError
from storage.store import Store, open_store

__all__ = ["StorageError", "Store", "open_store"]

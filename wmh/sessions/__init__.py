"""Durable session stores behind ``wmh.engine.sessions.SessionStore``: SQLite (default) and Redis.

``open_sessions(url, root)`` picks one from a store URL: ``sqlite:///path.db`` (the default is
``<root>/sessions.db``), ``redis://host:port/db``, or ``memory:``.
"""

from wmh.sessions.factory import SessionBackend, open_sessions

__all__ = ["SessionBackend", "open_sessions"]

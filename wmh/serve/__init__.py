"""The server: every world model over HTTP (FastAPI) and MCP, durable sessions, an OTLP receiver.

Public: ``create_app``, ``ServeConfig``, ``StaticModel``/``StaticSource`` (serve models built in code),
``collected_files`` (trace files the receiver wrote).
"""

from wmh.serve.app import ServeConfig, create_app
from wmh.serve.otlp import collected_files
from wmh.serve.registry import StaticModel, StaticSource

__all__ = ["ServeConfig", "StaticModel", "StaticSource", "collected_files", "create_app"]

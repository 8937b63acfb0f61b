"""Vertex AI's v1 REST API for hyperparameter tuning jobs (FastAPI), over the engine."""

from __future__ import annotations

from tuneyard.api.app import create_app
from tuneyard.api.filter import compile_filter
from tuneyard.api.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "compile_filter", "create_app"]

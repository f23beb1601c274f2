"""Logging to stderr (stdout stays for data)."""
from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "info") -> None:
    from .api.requests import RequestIdFilter
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])

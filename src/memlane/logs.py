"""Structured logs: one JSON object per line, to stderr (stdout stays for data) and to a
rotating file in the data directory. Every line carries the current request id. Log calls
name ids and counts, never secrets or memory texts."""
from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path

FILE_BYTES = 10 * 1024 * 1024
FILE_COUNT = 5


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "logger": record.name,
                "request_id": getattr(record, "request_id", "-"),
                "message": record.getMessage()}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str = "info", log_dir: Path | None = None) -> None:
    """JSON lines to stderr and, with ``log_dir``, to ``log_dir/memlane.log`` (rotated at
    10 MB, 5 kept)."""
    from .api.requests import RequestIdFilter
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            Path(log_dir) / "memlane.log", maxBytes=FILE_BYTES, backupCount=FILE_COUNT,
            encoding="utf-8"))
    for handler in handlers:
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=handlers, force=True)

"""JSON from strangers, within bounds: nesting depth, key length, size, numbers the store can
hold, and strings that are valid Unicode (a lone surrogate such as "\\ud800" can be parsed
but never encoded, stored or sent on). Checked without recursion, so depth cannot crash it."""
from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32  # containers inside containers
MAX_KEY_CHARS = 200
MAX_METADATA_BYTES = 64 * 1024  # one memory's metadata, as JSON
MAX_FILTER_KEYS = 32  # metadata keys one filter may match (each is a clause in SQL)


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Like json.loads, but anything unreadable or out of bounds is a ValueError (a number
    too long for Python, nesting too deep for the parser, a lone surrogate)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {max_depth} levels") from None
    return check(value, max_depth=max_depth)


def check(value: Any, *, max_depth: int = MAX_DEPTH, max_key_chars: int | None = None) -> Any:
    """``value`` unchanged if it is within bounds; ValueError naming the first problem."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            _deeper(depth, max_depth)
            for key, child in item.items():
                _key(key, max_key_chars)
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            _deeper(depth, max_depth)
            stack.extend((child, depth + 1) for child in item)
        else:
            _scalar(item)
    return value


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    check(value, max_key_chars=MAX_KEY_CHARS)
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is {size} bytes as JSON; the limit is "
                         f"{MAX_METADATA_BYTES}")
    return value


def check_filter(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_FILTER_KEYS:
        raise ValueError(f"a metadata filter may match at most {MAX_FILTER_KEYS} keys")
    return check_metadata(value)


def valid_text(text: str) -> bool:
    """False for a string with a lone surrogate (it has no UTF-8 form)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _deeper(depth: int, max_depth: int) -> None:
    if depth >= max_depth:
        raise ValueError(f"nested deeper than {max_depth} levels")


def _key(key: Any, max_chars: int | None) -> None:
    if not isinstance(key, str):
        raise ValueError("keys must be strings")
    if max_chars is not None and len(key) > max_chars:
        raise ValueError(f"a key is {len(key)} characters; the limit is {max_chars}")
    if not valid_text(key):
        raise ValueError("a key is not valid Unicode (it holds a lone surrogate)")


def _scalar(value: Any) -> None:
    if isinstance(value, str):
        if not valid_text(value):
            raise ValueError("a string is not valid Unicode (it holds a lone surrogate)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -2**63 <= value < 2**63:
            raise ValueError("integers must fit in 64 bits")

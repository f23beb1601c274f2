"""memlane_client: the Python client for memlane (REST over httpx), sync and async."""
from ._clients import AsyncClient, Client
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidError,
    MemlaneError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnreachableError,
)
from .types import (
    Answer,
    Context,
    Event,
    ImportSummary,
    Memory,
    MemoryPage,
    SearchResult,
    SearchResults,
)

__all__ = [
    "Answer",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "Context",
    "Event",
    "ImportSummary",
    "InvalidError",
    "MemlaneError",
    "Memory",
    "MemoryPage",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "SearchResult",
    "SearchResults",
    "ServerError",
    "UnreachableError",
]

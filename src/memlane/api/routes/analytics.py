from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ...domain import User, utcnow
from ...engine import Engine
from ...errors import Forbidden, Invalid
from ...schemas import UsageOut, aware_utc
from ..deps import CurrentUser, EngineDep

router = APIRouter(tags=["analytics"])
DEFAULT_WINDOW = timedelta(hours=24)


class PhaseStats(BaseModel):
    count: int
    p50_ms: float
    p95_ms: float


class StrategyStats(BaseModel):
    runs: int
    hits: int = Field(description="Memories found, summed over the runs.")
    runs_with_hits: int = Field(description="Runs that found at least one memory.")


class TokenUsage(UsageOut):
    cost: float = Field(description="Estimated from MEMLANE_LLM_COST_PER_1K_PROMPT and "
                                    "_COMPLETION (0 for the local model).")


class ConversationUsage(TokenUsage):
    conversation_id: str
    turns: int
    last_at: datetime


class AnalyticsSummary(BaseModel):
    since: datetime
    until: datetime
    user_id: str | None = Field(description="Whose records; null: every user's.")
    conversation_id: str | None
    records: int
    kinds: dict[str, int] = Field(
        description="Records per kind: chat, ask, search, completion (/v1).")
    phases: dict[str, dict[str, PhaseStats]] = Field(
        description="Per kind, per phase (setup, save_user, query_analysis, "
                    "retrieval_<strategy>, ranking, retrieval, context, first_token, "
                    "generation, save, enqueue, total): duration percentiles in ms.")
    strategies: dict[str, StrategyStats]
    usage: TokenUsage
    conversations: list[ConversationUsage] = Field(
        description="Token usage and cost per conversation, most recently active first.")


@router.get("/analytics", summary="Phase timings, strategy hits and token usage",
            description="Summarises the caller's records with since <= at < until (default: "
                        "the last 24 hours), optionally of one conversation. An admin may "
                        "pass `user_id` (another user's) or `all=true` (everyone's).")
async def analytics(user: CurrentUser, engine: EngineDep,
                    since: datetime | None = None, until: datetime | None = None,
                    conversation_id: Annotated[str | None, Query(max_length=64)] = None,
                    user_id: Annotated[str | None, Query(max_length=64)] = None,
                    all_users: Annotated[bool, Query(alias="all")] = False
                    ) -> AnalyticsSummary:
    since, until = _window(since, until)
    owner = await _owner(engine, user, user_id, all_users)
    if conversation_id and owner:  # 404 for another user's conversation, as for a missing one
        await engine.conversations.get(owner, conversation_id)
    summary = await engine.analytics.summary(owner, since, until, conversation_id)
    return AnalyticsSummary(since=since, until=until, user_id=owner,
                            conversation_id=conversation_id, **summary)


def _window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = aware_utc(until) if until else utcnow()
    try:
        since = aware_utc(since) if since else until - DEFAULT_WINDOW
    except OverflowError:
        since = datetime.min.replace(tzinfo=UTC)
    if since >= until:
        raise Invalid("since must be before until", param="since")
    return since, until


async def _owner(engine: Engine, user: User, user_id: str | None, all_users: bool
                 ) -> str | None:
    """Whose records: the caller's; an admin's choice of user; None for everyone's."""
    if all_users and user_id:
        raise Invalid("pass user_id or all=true, not both", param="all")
    if (all_users or user_id not in (None, user.id)) and not user.is_admin:
        raise Forbidden("only an admin may see other users' analytics")
    if all_users:
        return None
    return (await engine.accounts.user(user_id)).id if user_id else user.id

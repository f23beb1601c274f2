from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ..deps import CurrentUser, EngineDep

router = APIRouter(tags=["chat"])


class AgentOut(BaseModel):
    name: str
    persona: bool


class AgentList(BaseModel):
    agents: list[AgentOut]


@router.get("/agents", summary="The agents a conversation may pick (from the YAML file)")
async def list_agents(user: CurrentUser, engine: EngineDep) -> AgentList:
    found = engine.conversations.agents
    return AgentList(agents=[AgentOut(name=name, persona=bool(agent.persona))
                             for name, agent in found.items()])

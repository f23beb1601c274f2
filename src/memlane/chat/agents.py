"""Agent configuration from a YAML file (SPEC C): system prompt, persona, model settings,
budgets. The file holds named agents; a conversation picks one by name.

    agents:
      default:
        system_prompt: You are a warm, brief assistant who remembers.
      coach:
        persona: A patient running coach who has trained marathoners for 20 years...
        max_tokens: 200
        temperature: 0.5
        mode: persona          # budgets by share of the model window
        budgets: {semantic: 800}
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import Invalid
from . import prompts


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "default"
    system_prompt: str = prompts.CHAT_SYSTEM
    persona: str | None = None
    max_tokens: int | None = Field(None, ge=1, le=8192)
    temperature: float | None = Field(None, ge=0, le=2)
    mode: Literal["sections", "persona"] | None = None  # None: persona mode with a persona
    budgets: dict[str, int] = Field(default_factory=dict)
    contexts: int | None = Field(None, ge=1, le=50)  # at most this many memories
    # "system": memories in the system message; "message": in a system message just before
    # the user's, so the system prompt and the history stay a cached prefix turn after turn
    memories_at: Literal["system", "message"] = "system"


VOICE = AgentConfig(name="voice", system_prompt=prompts.VOICE_SYSTEM, max_tokens=120,
                    contexts=3, memories_at="message",
                    budgets={"profile": 150, "semantic": 250, "episodic": 250,
                             "procedural": 100, "entities": 0})


def load_agents(path: Path | None) -> dict[str, AgentConfig]:
    agents = {"default": AgentConfig(), "voice": VOICE}
    if path is None:
        return agents
    import yaml
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        for name, values in (raw.get("agents") or {}).items():
            agents[name] = AgentConfig(name=name, **(values or {}))
    except (OSError, yaml.YAMLError, ValidationError, AttributeError, TypeError) as exc:
        raise Invalid(f"agent file {path}: {exc}", param="agents_file") from None
    return agents

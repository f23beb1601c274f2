"""Answers and chat: ask, conversations, the turn pipeline, personas, agent configuration."""

"""Query analysis: intent, keywords, entities, time range, whether memory is needed, types."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import pairwise

from ..domain import MemoryType
from ..models.nlp import Parsed
from .timeparse import TimeRange, parse_time_range

_WH = ("what", "when", "where", "who", "whom", "whose", "which", "why", "how", "do", "does",
       "did", "is", "are", "was", "were", "can", "could", "should", "would", "will", "have",
       "has", "had")
_COMMANDS = ("remember that", "remind", "forget", "delete", "save", "note that", "add",
             "summarise", "summarize", "list", "show", "tell me", "store")
_RECALL = re.compile(r"\b(remember|recall|remind me|did i (say|tell|mention)|what do you know|"
                     r"tell me about|what have i)\b")
_CHITCHAT = re.compile(r"^(hi|hello|hey|thanks|thank you|good (morning|night|evening)|"
                       r"how are you|ok|okay|bye|goodbye|cool|nice|great|lol)\b[\s!.?]*$")
_PROFILE = re.compile(r"\b(prefer|preference|like|likes|love|loves|hate|hates|favou?rite|enjoy|"
                      r"dislike|allergic|want)\b")
_PROCEDURAL = re.compile(r"\b(how (do|should) (i|you)|when i say|always|usually|routine|steps)\b")
_INDEX_WORD = re.compile(r"[^\W_]+")  # a token of the index's unicode61 tokenizer
_EPISODIC = re.compile(r"\b(when did|what happened|last time|did we|did i|discussed|meeting|"
                       r"yesterday|ago|last)\b")


@dataclass
class QueryAnalysis:
    text: str
    intent: str  # question | recall | command | chit-chat
    keywords: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    entity_candidates: list[str] = field(default_factory=list)
    time_range: TimeRange | None = None
    needs_memory: bool = True
    types: list[MemoryType] = field(default_factory=list)
    specific: bool = False  # has rare-looking tokens: numbers, codes, quoted text

    def as_dict(self) -> dict:
        out = asdict(self)
        out["time_range"] = ({"since": self.time_range.since, "until": self.time_range.until,
                              "phrase": self.time_range.phrase} if self.time_range else None)
        return out


def analyse(query: str, parsed: Parsed, now: datetime) -> QueryAnalysis:
    lowered = query.lower().strip()
    intent = _intent(lowered)
    time_range = parse_time_range(query, now)
    keywords = list(dict.fromkeys(_keywords(parsed, time_range) + _codes(query, time_range)))
    entities = [e.name for e in parsed.entities]
    return QueryAnalysis(
        text=query, intent=intent, keywords=keywords, entities=entities,
        entity_candidates=_entity_candidates(parsed, entities), time_range=time_range,
        needs_memory=intent != "chit-chat", types=_types(lowered, time_range),
        specific=bool(re.search(r"\d|\"|'[^s ]|[A-Za-z]+[_\-#@][A-Za-z0-9]", query)))


def _intent(text: str) -> str:
    if _CHITCHAT.match(text):
        return "chit-chat"
    if text.startswith(_COMMANDS):
        return "command"
    if _RECALL.search(text):
        return "recall"
    if text.endswith("?") or text.split(" ", 1)[0] in _WH:
        return "question"
    return "recall"


def _keywords(parsed: Parsed, time_range: TimeRange | None) -> list[str]:
    time_words = set(time_range.phrase.split()) if time_range else set()
    seen: dict[str, None] = {}
    for tok in parsed.tokens:
        word = tok.text.lower()
        if tok.is_stop or tok.is_punct or len(word) < 2 or word in time_words:
            continue
        seen.setdefault(word)
        if tok.lemma and tok.lemma != word and tok.lemma.isalpha():
            seen.setdefault(tok.lemma)
    return list(seen)


def _codes(query: str, time_range: TimeRange | None) -> list[str]:
    """Words of letters and digits ("hunter2g", "x5km") whole, as the keyword index holds
    them: a parser may split "2g" into a number and a unit, and the code is then lost."""
    time_words = set(_INDEX_WORD.findall(time_range.phrase)) if time_range else set()
    return [w for w in _INDEX_WORD.findall(query.lower())
            if any(c.isdigit() for c in w) and not w.isdigit() and w not in time_words]


def _entity_candidates(parsed: Parsed, entities: list[str]) -> list[str]:
    """Named entities plus nouns and noun pairs: known entities are matched by name, so
    a lower-case "alice" still finds Alice."""
    nouns = [t.text for t in parsed.tokens if t.pos in ("PROPN", "NOUN") and not t.is_stop]
    pairs = [f"{a} {b}" for a, b in pairwise(nouns)]
    return list(dict.fromkeys(entities + nouns + pairs))


def _types(text: str, time_range: TimeRange | None) -> list[MemoryType]:
    types = []
    if _PROFILE.search(text):
        types.append(MemoryType.profile)
    if _PROCEDURAL.search(text):
        types.append(MemoryType.procedural)
    if time_range or _EPISODIC.search(text):
        types.append(MemoryType.episodic)
    return types or list(MemoryType)

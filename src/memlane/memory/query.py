"""Query analysis: intent, keywords, entities, time range, whether memory is needed, types.

Lexical, with no model: a query is a few words, and a parser's turn would cost more than
the rest of a search (it also waits behind ingest for the parser). Capitalised runs stand
for names; known entities are matched by name, so a candidate that names nothing costs
nothing."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import pairwise

from spacy.lang.en.stop_words import STOP_WORDS

from ..domain import MemoryType
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
# spaCy's English stop words, less those a memory is often found by
STOP = STOP_WORDS - {"move", "name", "call", "show", "give", "take", "make", "made", "first",
                     "last", "back", "front", "top", "bottom", "side", "full", "empty", "part",
                     "fire", "well", "used", "using", "nobody", "alone"}
# a word with its contraction or possessive: "Caroline's", "didn't"
_WORD = re.compile(r"([^\W_]+)(?:['’]([^\W_]+))?")
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


def analyse(query: str, now: datetime) -> QueryAnalysis:
    lowered = query.lower().strip()
    intent = _intent(lowered)
    time_range = parse_time_range(query, now)
    words = _content_words(query, time_range)
    keywords = list(dict.fromkeys([w.lower() for w in words] + _codes(query, time_range)))
    entities = _names(query)
    return QueryAnalysis(
        text=query, intent=intent, keywords=keywords, entities=entities,
        entity_candidates=_entity_candidates(words, entities), time_range=time_range,
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


def _words(query: str) -> list[str | None]:
    """The query's words, a stop word or a negation ("didn't") as None; "Caroline's" is
    "Caroline"."""
    out: list[str | None] = []
    for m in _WORD.finditer(query):
        word, suffix = m.group(1), (m.group(2) or "").lower()
        out.append(None if word.lower() in STOP or suffix == "t" else word)
    return out


def _content_words(query: str, time_range: TimeRange | None) -> list[str]:
    time_words = set(_INDEX_WORD.findall(time_range.phrase)) if time_range else set()
    return [w for w in _words(query)
            if w and len(w) > 1 and w.lower() not in time_words]


def _names(query: str) -> list[str]:
    """Runs of capitalised words that are not stop words ("New York", "Melanie")."""
    runs: list[list[str]] = [[]]
    for word in _words(query):
        if word and word[0].isupper():
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    return list(dict.fromkeys(" ".join(run) for run in runs if run))


def _codes(query: str, time_range: TimeRange | None) -> list[str]:
    """Words of letters and digits ("hunter2g", "x5km") whole, as the keyword index holds
    them: a parser may split "2g" into a number and a unit, and the code is then lost."""
    time_words = set(_INDEX_WORD.findall(time_range.phrase)) if time_range else set()
    return [w for w in _INDEX_WORD.findall(query.lower())
            if any(c.isdigit() for c in w) and not w.isdigit() and w not in time_words]


def _entity_candidates(words: list[str], names: list[str]) -> list[str]:
    """Names, content words and neighbouring pairs of them: known entities are matched by
    name, so a lower-case "alice" still finds Alice."""
    pairs = [f"{a} {b}" for a, b in pairwise(words)]
    return list(dict.fromkeys(names + words + pairs))


def _types(text: str, time_range: TimeRange | None) -> list[MemoryType]:
    types = []
    if _PROFILE.search(text):
        types.append(MemoryType.profile)
    if _PROCEDURAL.search(text):
        types.append(MemoryType.procedural)
    if time_range or _EPISODIC.search(text):
        types.append(MemoryType.episodic)
    return types or list(MemoryType)

"""What a user's message tells, and whether a text is grounded in what was told.

`told` keeps the statements of a message (questions, greetings and requests dropped;
"remember that …" unwrapped to what follows). It decides what a chat turn stores at once
and what fact extraction may read. `ungrounded` lists a text's specific values (numbers,
names, dates, quoted or code-like strings) and content words that its sources never
said: extraction keeps a fact, and a reply keeps a value, only when they are grounded."""
from __future__ import annotations

import re
from collections.abc import Iterable

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")
# "I'm moving to Berlin, so what should I pack?": the statement and the question apart
_TURN = re.compile(r",\s+(?=(?:so|and|but)\s+(?:what|how|where|when|who|which|why|should|"
                   r"could|can|do|does|did|is|are|will|would)\b)", re.I)
_ABBREVIATION = re.compile(r"\b(?:mr|mrs|ms|dr|st|jr|sr|prof|mt|vs|etc|e\.g|i\.e|no|nr|approx|"
                           r"dept|ave|rd|apt|fig|ca)\.$", re.I)
_QUESTION_START = re.compile(
    r"^(?:what|when|where|who|whom|whose|which|why|how|do|does|did|is|are|am|was|were|can|"
    r"could|should|would|will|shall|may|might|have|has|had|isn't|aren't|don't|doesn't|"
    r"didn't|any idea|tell me|remind me what|remind me when|remind me where|remind me who|"
    r"show me|list|give me|find|search|recall|what's|where's|who's|when's|how's)\b", re.I)
_REQUEST = re.compile(
    r"^(?:(?:please|pls|ok|okay|so|and|but|hey|hi)[\s,]+)*(?:(?:can|could|would|will) you|"
    r"help me|explain|summari[sz]e|translate|write|tell me|let me know|i (?:want|need|would "
    r"like) (?:to know|you to)|i wonder|i'm wondering|do you (?:know|remember))\b", re.I)
_REMEMBER = re.compile(
    r"^(?:(?:please|pls|ok|okay|so|and|hey|also)[\s,]+)*(?:(?:can|could|would|will) you\s+)?"
    r"(?:remember|note|keep in mind|don't forget|do not forget|save|store|write down|"
    r"make a note|for the record|fyi|note for later|reminder)"
    r"(?:\s+(?:that|this|of this))?(?:\s+for later)?\s*[:,\-–]?\s*", re.I)
_POLITE = re.compile(r"^(?:please\s+)?(?:can|could|would|will) you\s+(?:please\s+)?"
                     r"(?:remember|note|save|store|write down|keep in mind)\b", re.I)
_CLAUSE = re.compile(r"\d|\b(?:is|are|was|were|am|has|have|had|will|'s|’s|lives?|works?|"
                     r"likes?|loves?|hates?)\b", re.I)
_SMALL_TALK = frozenset("""
hi hello hey thanks thank you thx good morning night evening afternoon ok okay bye goodbye
cool nice great lol yes no yep nope sure got it sounds how are i see hmm wow again so much a
lot there all awesome perfect fine well oh ah right alright cheers please sorry that s it
is was very really
""".split())

_NUMBER = re.compile(r"(?<![A-Za-z\d])\d+(?:[.,:/-]\d+)*(?=(?:st|nd|rd|th)?\b)")
_QUOTED = re.compile(r"[\"“”`]([^\"“”`]{1,80})[\"“”`]|(?<!\w)['‘]([^'‘’]{1,80})['’](?!\w)")
_CODE = re.compile(r"\b(?!\d+(?:st|nd|rd|th)\b)(?=\w*[A-Za-z])(?=\w*\d)\w+\b|"
                   r"\b\w+(?:[_#@/\\]\w+)+\b")
_CAPITAL = re.compile(r"\b[A-Z][\w-]*")
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script: "tromsø" is one word
# words that carry a fact's value as much as a name does: who, which colour, whether not
_VALUE_WORDS = frozenset("""
mother mom mum father dad parent parents sister brother son daughter wife husband partner
boyfriend girlfriend fiance fiancee grandmother grandma grandfather grandpa aunt uncle
cousin niece nephew friend boss colleague neighbour neighbor teacher doctor dentist
red orange yellow green blue purple pink brown black white grey gray silver gold
not never no none nothing nobody without
""".split())
# words a first-person rewrite or a polite reply may add without inventing anything
_FUNCTION_WORDS = frozenset("""
i i'm im me my mine myself we our ours us you your yours he she his her hers him they them
their theirs it its this that these those there here the a an and or but not no nor so to of
in on at by for with from into onto about as is are was were be been being am do does did
have has had will would can could should may might must shall than then also just very
really too quite some any all each every own same other such only now still yet again ago
is isn't aren't wasn't weren't don't doesn't didn't won't can't user user's name named
called which who whom whose what when where why how if because while until since before
after during over under up down out off am pm let lets let's remember told tell said say
says note noted know knows like likes one ones thing things sure yes okay ok based
according sorry hello hi hey course great unfortunately however certainly absolutely indeed
well alright got seems looks
""".split())


def told(text: str) -> str:
    """The statements of a message, joined; empty when it tells nothing."""
    kept = []
    for sentence in sentences(text):
        unwrapped = _REMEMBER.sub("", sentence, count=1).strip()
        if unwrapped != sentence and _stores(sentence, unwrapped):
            if unwrapped.endswith("?"):  # "can you remember that my code is 5521?"
                unwrapped = unwrapped.rstrip("?").strip() + "."
            sentence = unwrapped[:1].upper() + unwrapped[1:]
        if _is_statement(sentence):
            kept.append(sentence)
    return " ".join(kept).strip()


def _stores(sentence: str, unwrapped: str) -> bool:
    """A request to remember a statement, not a recall question ("remember that walk?")."""
    if not sentence.endswith("?"):
        return True
    return bool(_POLITE.match(sentence) and _CLAUSE.search(unwrapped))


def is_question(text: str) -> bool:
    """Whether a message asks something (any of its sentences)."""
    return any(_asks(s) for s in sentences(text))


def _pieces(text: str) -> list[str]:
    return [part for piece in _BOUNDARY.split(text) for part in _TURN.split(piece)]


def sentences(text: str) -> list[str]:
    """Split after . ! ? and at line ends, but not after "Mrs." or inside "3.5"."""
    out: list[str] = []
    for piece in _pieces(text.replace("\r", "")):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        elif piece.strip():
            out.append(piece.strip())
    return out


def _asks(sentence: str) -> bool:
    return bool(sentence) and (sentence.endswith("?") or bool(_QUESTION_START.match(sentence))
                               or bool(_REQUEST.match(sentence)))


def _is_statement(sentence: str) -> bool:
    words = _WORD.findall(sentence.lower())
    if not sentence or _asks(sentence) or all(w in _SMALL_TALK for w in words):
        return False
    return len(words) >= 2


def values(text: str) -> set[str]:
    """The specific values a text asserts: numbers, quoted strings, code-like tokens and
    capitalised words (names, places, months), lower-cased."""
    found = {_digits(n) for n in _NUMBER.findall(text)}
    found |= {q.strip().lower() for pair in _QUOTED.findall(text) for q in pair if q.strip()}
    found |= {c.lower() for c in _CODE.findall(text)}
    found |= {w for w in _WORD.findall(text.lower()) if w in _VALUE_WORDS}
    found |= {"not" for w in re.findall(r"\w+n't\b", text.lower())}
    for match in _CAPITAL.finditer(text):
        word = match.group().strip("-").lower()
        if word and word not in _FUNCTION_WORDS:
            found.add(word)
    return {v for v in found if v}


def ungrounded(text: str, sources: Iterable[str], *, min_words: float = 0.6) -> list[str]:
    """What ``text`` says that ``sources`` do not: each value missing from them, and when
    fewer than ``min_words`` of its content words occur in them, those words. Empty when
    the text is grounded."""
    source = " ".join(sources)
    plain, known = _plain(source), stems(source)
    missing = [v for v in sorted(values(text)) if not _occurs(v, plain, known)]
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 2
             and w not in _FUNCTION_WORDS and not w.isdigit()]
    absent = [w for w in words if _stem(w) not in known]
    if words and len(absent) > (1 - min_words) * len(words):
        missing += absent
    return list(dict.fromkeys(missing))


def _occurs(value: str, plain: str, known: set[str]) -> bool:
    if value.isdigit():
        return re.search(rf"(?<!\d){value}(?!\d)", plain) is not None
    if " " in value or not value.isalnum():
        return _plain(value) in plain
    return value in plain.split() or _stem(value) in known


def _digits(text: str) -> str:
    """Numbers compared by their digits ("4,471" is "4471"); other text kept apart."""
    return re.sub(r"(?<=\d)[,.](?=\d{3}\b)", "", text)


def _plain(text: str) -> str:
    text = re.sub(r"n't\b", " not", _digits(text.lower()))
    return " ".join(_WORD.findall(text))


def stems(text: str) -> set[str]:
    """The crude stems of a text's words."""
    return {_stem(w) for w in _WORD.findall(text.lower())}


_SUFFIX = re.compile(r"(?<=\w{3})(?:ing|ed|(?:(?<=[sxz])|(?<=ch)|(?<=sh))es|(?<!s)s)$")


def _stem(word: str) -> str:
    """A crude stem: enough to match "colours"/"colour", "moved"/"move", "lives"/"live",
    "boxes"/"box", "parked"/"park"."""
    word = _SUFFIX.sub("", re.sub(r"ie[sd]$", "y", word))
    return (word[:-1] if word.endswith("e") and len(word) > 3 else word)[:6]

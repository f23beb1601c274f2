from .embedder import Embedder
from .nlp import NLP, Parsed, Token
from .registry import create, register

__all__ = ["Embedder", "NLP", "Parsed", "Token", "create", "register"]

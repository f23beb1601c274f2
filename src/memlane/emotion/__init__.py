"""Emotion (SPEC D): text emotion from sentence embeddings, prosody for speech, their
fusion, and an importance score."""
from .classifier import EmbeddingEmotion
from .fusion import fuse
from .importance import importance
from .labels import AROUSAL, LABELS
from .prosody import Prosody, prosody, speech_emotion
from .reading import EmotionReading
from .service import Emotions

__all__ = ["AROUSAL", "LABELS", "EmbeddingEmotion", "EmotionReading", "Emotions", "Prosody",
           "fuse", "importance", "prosody", "speech_emotion"]

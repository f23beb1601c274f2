from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AudioEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIO_ENCODING_UNSPECIFIED: _ClassVar[AudioEncoding]
    PCM_S16LE: _ClassVar[AudioEncoding]
    WAV: _ClassVar[AudioEncoding]
    OGG_OPUS: _ClassVar[AudioEncoding]
    WEBM_OPUS: _ClassVar[AudioEncoding]
AUDIO_ENCODING_UNSPECIFIED: AudioEncoding
PCM_S16LE: AudioEncoding
WAV: AudioEncoding
OGG_OPUS: AudioEncoding
WEBM_OPUS: AudioEncoding

class ClientMessage(_message.Message):
    __slots__ = ("request_id", "auth", "audio", "text", "commit", "end", "question")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    auth: Auth
    audio: Audio
    text: Text
    commit: Commit
    end: EndOfStream
    question: Question
    def __init__(self, request_id: _Optional[str] = ..., auth: _Optional[_Union[Auth, _Mapping]] = ..., audio: _Optional[_Union[Audio, _Mapping]] = ..., text: _Optional[_Union[Text, _Mapping]] = ..., commit: _Optional[_Union[Commit, _Mapping]] = ..., end: _Optional[_Union[EndOfStream, _Mapping]] = ..., question: _Optional[_Union[Question, _Mapping]] = ...) -> None: ...

class Auth(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    def __init__(self, api_key: _Optional[str] = ...) -> None: ...

class Audio(_message.Message):
    __slots__ = ("data", "encoding", "sample_rate")
    DATA_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    encoding: AudioEncoding
    sample_rate: int
    def __init__(self, data: _Optional[bytes] = ..., encoding: _Optional[_Union[AudioEncoding, str]] = ..., sample_rate: _Optional[int] = ...) -> None: ...

class Text(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class Commit(_message.Message):
    __slots__ = ("type", "metadata", "client_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    metadata: _containers.ScalarMap[str, str]
    client_id: str
    def __init__(self, type: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., client_id: _Optional[str] = ...) -> None: ...

class EndOfStream(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Question(_message.Message):
    __slots__ = ("text", "max_tokens")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    text: str
    max_tokens: int
    def __init__(self, text: _Optional[str] = ..., max_tokens: _Optional[int] = ...) -> None: ...

class ServerMessage(_message.Message):
    __slots__ = ("request_id", "ready", "transcript", "committed", "contexts", "token", "done", "error", "end")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    CONTEXTS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    ready: Ready
    transcript: Transcript
    committed: Committed
    contexts: Contexts
    token: Token
    done: Done
    error: Error
    end: EndOfStream
    def __init__(self, request_id: _Optional[str] = ..., ready: _Optional[_Union[Ready, _Mapping]] = ..., transcript: _Optional[_Union[Transcript, _Mapping]] = ..., committed: _Optional[_Union[Committed, _Mapping]] = ..., contexts: _Optional[_Union[Contexts, _Mapping]] = ..., token: _Optional[_Union[Token, _Mapping]] = ..., done: _Optional[_Union[Done, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., end: _Optional[_Union[EndOfStream, _Mapping]] = ...) -> None: ...

class Ready(_message.Message):
    __slots__ = ("protocol", "user_id")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    protocol: str
    user_id: str
    def __init__(self, protocol: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class Emotion(_message.Message):
    __slots__ = ("label", "confidence", "source")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    label: str
    confidence: float
    source: str
    def __init__(self, label: _Optional[str] = ..., confidence: _Optional[float] = ..., source: _Optional[str] = ...) -> None: ...

class Transcript(_message.Message):
    __slots__ = ("text", "final", "utterance", "start_s", "end_s", "emotion")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    EMOTION_FIELD_NUMBER: _ClassVar[int]
    text: str
    final: bool
    utterance: int
    start_s: float
    end_s: float
    emotion: Emotion
    def __init__(self, text: _Optional[str] = ..., final: _Optional[bool] = ..., utterance: _Optional[int] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., emotion: _Optional[_Union[Emotion, _Mapping]] = ...) -> None: ...

class Committed(_message.Message):
    __slots__ = ("memory_id", "created", "text", "emotion", "importance")
    MEMORY_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    EMOTION_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    memory_id: str
    created: bool
    text: str
    emotion: Emotion
    importance: float
    def __init__(self, memory_id: _Optional[str] = ..., created: _Optional[bool] = ..., text: _Optional[str] = ..., emotion: _Optional[_Union[Emotion, _Mapping]] = ..., importance: _Optional[float] = ...) -> None: ...

class ContextItem(_message.Message):
    __slots__ = ("ref", "memory_id", "text", "score", "type", "when")
    REF_FIELD_NUMBER: _ClassVar[int]
    MEMORY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    ref: int
    memory_id: str
    text: str
    score: float
    type: str
    when: str
    def __init__(self, ref: _Optional[int] = ..., memory_id: _Optional[str] = ..., text: _Optional[str] = ..., score: _Optional[float] = ..., type: _Optional[str] = ..., when: _Optional[str] = ...) -> None: ...

class Contexts(_message.Message):
    __slots__ = ("question", "items")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    question: str
    items: _containers.RepeatedCompositeFieldContainer[ContextItem]
    def __init__(self, question: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ContextItem, _Mapping]]] = ...) -> None: ...

class Token(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class Done(_message.Message):
    __slots__ = ("answer", "citations", "known", "finish_reason", "prompt_tokens", "completion_tokens", "timings_ms")
    class TimingsMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_MS_FIELD_NUMBER: _ClassVar[int]
    answer: str
    citations: _containers.RepeatedScalarFieldContainer[str]
    known: bool
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    timings_ms: _containers.ScalarMap[str, float]
    def __init__(self, answer: _Optional[str] = ..., citations: _Optional[_Iterable[str]] = ..., known: _Optional[bool] = ..., finish_reason: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., timings_ms: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("status", "code", "message")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status: int
    code: str
    message: str
    def __init__(self, status: _Optional[int] = ..., code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

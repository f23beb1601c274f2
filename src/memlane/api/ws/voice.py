"""/ws/voice (alias /ws/assistant): the voice assistant. Binary messages carry audio in;
text messages carry JSON both ways; binary messages out are WAV files, one per spoken
sentence of the reply.

Client JSON: {"type": "auth", "api_key"}, {"type": "start", "encoding", "sample_rate"}
(optional; audio is sniffed: WAV, Ogg, WebM, else 16 kHz PCM s16le), {"type": "end"} (the
utterance is over; silence also ends it), {"type": "text", "text"} (typed instead of said).
Server JSON: ready, status (listening | transcribing | thinking | speaking), transcript,
emotion, reply (each sentence with final false, then the whole reply with final true),
error."""
from __future__ import annotations

import asyncio
import logging

from ... import jsonsafe
from ...chat.service import MAX_MESSAGE_CHARS
from ...errors import BadRequest, Invalid, MemlaneError, Unavailable
from ...voice.assistant import Heard, Replied, Spoken, Status
from ...voice.listening import Listener
from .socket import Frame, Socket

log = logging.getLogger(__name__)
PROTOCOL = "memlane.voice.v1"
ENCODINGS = ("auto", "pcm_s16le", "wav", "ogg", "webm")


class JsonSocket(Socket):
    def auth_key(self, frame: Frame) -> str | None:
        try:
            message = jsonsafe.loads(frame.text or "")
        except ValueError:
            return None
        key = message.get("api_key") if isinstance(message, dict) else None
        return key if isinstance(key, str) else None

    async def fail(self, exc: MemlaneError, request_id: str = "") -> None:
        await self.send_json({"type": "error", "status": exc.status, "code": exc.code,
                              "message": exc.message})


class VoiceSession:
    def __init__(self, sock: JsonSocket):
        engine = sock.engine
        if engine.assistant is None:
            raise Unavailable("the voice assistant is off on this server (voice_enabled="
                              "false)")
        self.sock, self.engine = sock, engine
        self.ear = Listener(engine.voice, engine.settings, partials=False)
        self.assistant = engine.assistant
        self.conversation_id = sock.ws.query_params.get("conversation_id") or None
        self.encoding, self.sample_rate = "auto", 16000
        self._tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        user_id = self.sock.user.id  # another user's conversation is a missing one (404)
        self.conversation_id = await self.assistant.start(user_id, self.conversation_id)
        self._prefill()
        tts = self.engine.voice.tts if self.engine.voice.has_tts else None
        await self.sock.send_json({
            "type": "ready", "protocol": PROTOCOL, "user_id": self.sock.user.id,
            "conversation_id": self.conversation_id,
            "audio_out": {"format": "wav", "sample_rate": tts.sample_rate if tts else None}})
        await self.status("listening")
        while True:
            frame = await self.sock.receive()
            try:
                await self.handle(frame)
            except MemlaneError as exc:
                if exc.status == 500:
                    raise
                await self.sock.fail(exc)

    async def handle(self, frame: Frame) -> None:
        if frame.data is not None:
            for event in await self.ear.feed(frame.data, self.encoding, self.sample_rate):
                await self.reply_to(event.text, event.audio)
            return
        message = _json(frame.text)
        kind = message.get("type")
        if kind == "end":
            await self.status("transcribing")
            events = await self.ear.finish()
            if not events:
                await self.status("listening")
                raise Invalid("no speech was heard before the end message")
            for event in events:
                await self.reply_to(event.text, event.audio)
        elif kind == "text":
            text = str(message.get("text") or "").strip()
            if not text:
                raise BadRequest("a text message needs a non-empty 'text'")
            if len(text) > MAX_MESSAGE_CHARS:
                raise Invalid(f"a text message may have at most {MAX_MESSAGE_CHARS} characters")
            await self.reply_to(text, None)
        elif kind == "start":
            self.start(message)
        elif kind != "auth":
            raise BadRequest(f"unknown message type {kind!r}: send audio as binary, or JSON "
                             "of type start, end, text or auth")

    def start(self, message: dict) -> None:
        encoding = message.get("encoding", "auto")
        rate = message.get("sample_rate", 16000)
        if encoding not in ENCODINGS or not isinstance(rate, int) or not 8000 <= rate <= 96000:
            raise BadRequest(f"start needs encoding in {', '.join(ENCODINGS)} and an integer "
                             "sample_rate between 8000 and 96000")
        self.encoding, self.sample_rate = encoding, rate

    async def reply_to(self, text: str, audio) -> None:
        await self.sock.spend()
        async for event in self.assistant.respond(self.sock.user.id, self.conversation_id,
                                                  text, audio):
            if isinstance(event, Status):
                await self.status(event.state)
            elif isinstance(event, Heard):
                await self.sock.send_json({"type": "transcript", "text": event.text,
                                           "final": True})
                await self.sock.send_json({"type": "emotion", **event.emotion.as_dict(),
                                           "parts": event.parts})
            elif isinstance(event, Spoken):
                await self.sock.send_json({"type": "reply", "text": event.text,
                                           "index": event.index, "final": False})
                if event.audio:
                    await self.sock.send_bytes(event.audio)
            elif isinstance(event, Replied):
                await self.sock.send_json({
                    "type": "reply", "text": event.text, "final": True,
                    "citations": event.citations, "known": event.known,
                    "conversation_id": self.conversation_id,
                    "message_id": event.extra.get("message_id"),
                    "timings_ms": event.timings_ms})
        self._prefill()
        await self.status("listening")

    def _prefill(self) -> None:
        """While the user speaks, the LLM evaluates the start of the next prompt."""
        task = asyncio.create_task(self.assistant.prepare(self.sock.user.id,
                                                          self.conversation_id))
        task.add_done_callback(_quiet)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def status(self, state: str) -> None:
        await self.sock.send_json({"type": "status", "state": state})


def _json(text: str | None) -> dict:
    try:
        message = jsonsafe.loads(text or "")
    except ValueError as exc:
        raise BadRequest(f"malformed JSON message: {exc}") from None
    if not isinstance(message, dict):
        raise BadRequest("a JSON message must be an object with a 'type'")
    return message


def _quiet(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("prefill failed: %s", task.exception())

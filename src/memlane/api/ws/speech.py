"""The protobuf sockets: /ws/transcribe, /ws/memory and /ws/ask (SPEC E)."""
from __future__ import annotations

from ...chat.events import Contexts, Done, Token
from ...errors import BadRequest, MemlaneError
from ...proto import memlane_pb2 as pb
from ...voice.assistant import hear
from ...voice.listening import Listener
from ...voice.transcriber import TranscriptEvent
from .protobuf import ENCODINGS, ProtoSocket, emotion


async def transcribe(sock: ProtoSocket) -> None:
    ear = Listener(sock.engine.voice, sock.engine.settings)
    while True:
        message = await sock.next()
        async with _answering(sock, message):
            await _send_transcripts(sock, message, await _listen(ear, message, "transcribe"))
            if message.WhichOneof("body") == "end":
                await sock.send(message.request_id, end=pb.EndOfStream())


async def memory(sock: ProtoSocket) -> None:
    ear = Listener(sock.engine.voice, sock.engine.settings)
    told: list[TranscriptEvent | str] = []
    while True:
        message = await sock.next()
        async with _answering(sock, message):
            if message.WhichOneof("body") == "text":
                told.append(message.text.text)
            elif message.WhichOneof("body") == "commit":
                if sock.engine.voice is not None:  # typed text alone needs no speech
                    told += await _send_transcripts(sock, message, await ear.finish())
                await _commit(sock, message, told)
                told = []
            else:
                told += await _send_transcripts(
                    sock, message, await _listen(ear, message, "memory", ("text", "commit")))


async def ask(sock: ProtoSocket) -> None:
    ear = Listener(sock.engine.voice, sock.engine.settings)
    heard: list[TranscriptEvent] = []
    while True:
        message = await sock.next()
        async with _answering(sock, message):
            kind = message.WhichOneof("body")
            if kind == "question":
                await _answer(sock, message, message.question.text, message.question.max_tokens)
                continue
            heard += await _send_transcripts(
                sock, message, await _listen(ear, message, "ask", ("question",)))
            if kind == "end":
                question = " ".join(e.text for e in heard).strip()
                heard = []
                await _answer(sock, message, question, 0)


class _answering:
    """Reports a MemlaneError raised while handling ``message`` and keeps the socket."""

    def __init__(self, sock: ProtoSocket, message: pb.ClientMessage):
        self.sock, self.message = sock, message

    async def __aenter__(self):
        return self

    async def __aexit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, MemlaneError) and exc.status != 500:
            await self.sock.fail(exc, self.message.request_id)
            return True
        return False


async def _listen(ear: Listener, message: pb.ClientMessage, door: str,
                  also: tuple[str, ...] = ()) -> list[TranscriptEvent]:
    kind = message.WhichOneof("body")
    if kind == "audio":
        audio = message.audio
        return await ear.feed(audio.data, ENCODINGS.get(audio.encoding, "auto"),
                              audio.sample_rate)
    if kind == "end":
        return await ear.finish()
    if kind == "auth":
        return []
    accepted = ", ".join(("audio", "end", *also))
    raise BadRequest(f"/ws/{door} takes {accepted} messages, not {kind}")


async def _send_transcripts(sock: ProtoSocket, message: pb.ClientMessage,
                            events: list[TranscriptEvent]) -> list[TranscriptEvent]:
    """Sends each transcript (finals with their emotion); returns the finals."""
    finals = []
    for e in events:
        reading = (await hear(sock.engine.emotions, e.text, e.audio))[0] if e.final else None
        await sock.send(message.request_id, transcript=pb.Transcript(
            text=e.text, final=e.final, utterance=e.utterance, start_s=e.start_s,
            end_s=e.end_s, emotion=emotion(reading)))
        if e.final:
            finals.append(e)
    return finals


async def _commit(sock: ProtoSocket, message: pb.ClientMessage,
                  told: list[TranscriptEvent | str]) -> None:
    commit = message.commit
    await sock.spend()
    memory, created, reading = await sock.engine.remember(
        sock.user.id, told, type=commit.type, metadata=dict(commit.metadata),
        client_id=commit.client_id or None)
    await sock.send(message.request_id, committed=pb.Committed(
        memory_id=memory.id, created=created, text=memory.text, emotion=emotion(reading),
        importance=memory.importance))


async def _answer(sock: ProtoSocket, message: pb.ClientMessage, question: str,
                  max_tokens: int) -> None:
    rid = message.request_id
    await sock.spend()
    async for event in sock.engine.asker.ask(sock.user.id, question,
                                             max_tokens=max_tokens or None):
        if isinstance(event, Contexts):
            await sock.send(rid, contexts=pb.Contexts(question=question, items=[
                pb.ContextItem(ref=c.ref, memory_id=c.memory_id, text=c.text, score=c.score,
                               type=c.type, when=c.when.isoformat() if c.when else "")
                for c in event.items]))
        elif isinstance(event, Token):
            await sock.send(rid, token=pb.Token(text=event.text))
        elif isinstance(event, Done):
            await sock.send(rid, done=pb.Done(
                answer=event.answer, citations=event.citations, known=event.known,
                finish_reason=event.finish_reason,
                prompt_tokens=event.usage.prompt_tokens,
                completion_tokens=event.usage.completion_tokens,
                timings_ms={k: float(v) for k, v in event.timings_ms.items()
                            if v is not None}))

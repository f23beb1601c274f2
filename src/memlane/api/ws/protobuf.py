"""The protobuf sockets' framing: one binary message holds one ClientMessage (in) or one
ServerMessage (out), as `proto/memlane.proto` defines."""
from __future__ import annotations

from google.protobuf.message import DecodeError

from ...errors import BadRequest, MemlaneError
from ...proto import memlane_pb2 as pb
from .socket import Frame, Socket

PROTOCOL = "memlane.v1"


class ProtoSocket(Socket):
    async def open(self):
        user = await super().open()
        await self.send(ready=pb.Ready(protocol=PROTOCOL, user_id=user.id))
        return user

    async def next(self) -> pb.ClientMessage:
        """The next well-formed message; a malformed one is answered and skipped."""
        while True:
            frame = await self.receive()
            try:
                return parse(frame)
            except BadRequest as exc:
                await self.fail(exc)

    def auth_key(self, frame: Frame) -> str | None:
        try:
            message = parse(frame)
        except BadRequest:
            return None
        return message.auth.api_key if message.WhichOneof("body") == "auth" else None

    async def send(self, request_id: str = "", **body) -> None:
        await self.send_bytes(pb.ServerMessage(request_id=request_id, **body)
                              .SerializeToString())

    async def fail(self, exc: MemlaneError, request_id: str = "") -> None:
        await self.send(request_id, error=pb.Error(status=exc.status, code=exc.code,
                                                   message=exc.message))


def parse(frame: Frame) -> pb.ClientMessage:
    if frame.data is None:
        raise BadRequest("this socket speaks protobuf: send binary ClientMessage frames "
                         "(see proto/memlane.proto)")
    message = pb.ClientMessage()
    try:
        message.ParseFromString(frame.data)
    except DecodeError:
        raise BadRequest("malformed protobuf: expected a memlane.v1.ClientMessage") from None
    if message.WhichOneof("body") is None:
        raise BadRequest("empty ClientMessage: set one of auth, audio, text, commit, end, "
                         "question")
    return message


ENCODINGS = {pb.AUDIO_ENCODING_UNSPECIFIED: "auto", pb.PCM_S16LE: "pcm_s16le", pb.WAV: "wav",
             pb.OGG_OPUS: "ogg", pb.WEBM_OPUS: "webm"}


def emotion(reading) -> pb.Emotion | None:
    if reading is None:
        return None
    return pb.Emotion(label=reading.label, confidence=reading.confidence,
                      source=reading.source)

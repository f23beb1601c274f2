"""The WebSocket doors: protobuf (/ws/transcribe, /ws/memory, /ws/ask) and JSON plus binary
audio (/ws/voice, alias /ws/assistant)."""
from __future__ import annotations

from fastapi import APIRouter, WebSocket

from . import speech
from .protobuf import ProtoSocket
from .socket import serve
from .voice import JsonSocket, VoiceSession

router = APIRouter()


@router.websocket("/ws/transcribe")
async def transcribe(websocket: WebSocket):
    await serve(ProtoSocket(websocket, websocket.app.state.engine), speech.transcribe)


@router.websocket("/ws/memory")
async def memory(websocket: WebSocket):
    await serve(ProtoSocket(websocket, websocket.app.state.engine), speech.memory)


@router.websocket("/ws/ask")
async def ask(websocket: WebSocket):
    await serve(ProtoSocket(websocket, websocket.app.state.engine), speech.ask)


@router.websocket("/ws/voice")
@router.websocket("/ws/assistant")
async def voice(websocket: WebSocket):
    await serve(JsonSocket(websocket, websocket.app.state.engine),
                lambda sock: VoiceSession(sock).run())

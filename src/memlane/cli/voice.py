"""`memlane voice FILE` (talks to /ws/voice) and `memlane transcribe FILE` (/ws/transcribe).
Audio files go as they are (WAV, Ogg/Opus, WebM); the server decodes them."""
from __future__ import annotations

import io
import json
import wave
from contextlib import contextmanager
from pathlib import Path

import click

from ..proto import memlane_pb2 as pb
from .http import key_option, url_option

CHUNK = 32 * 1024


@contextmanager
def _socket(url: str, path: str, key: str | None):
    from websockets.exceptions import InvalidURI, WebSocketException
    from websockets.sync.client import connect

    ws_url = url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    headers = {"Authorization": f"Bearer {key}"} if key else None
    try:
        with connect(ws_url + path, additional_headers=headers, max_size=None,
                     open_timeout=10) as ws:
            yield ws
    except (OSError, InvalidURI) as exc:
        raise click.ClickException(f"cannot reach memlane at {url} ({exc}); start it with "
                                   "`memlane serve` or set MEMLANE_URL") from None
    except WebSocketException as exc:
        raise click.ClickException(f"the connection failed: {exc}") from None


def _chunks(path: Path):
    data = path.read_bytes()
    if not data:
        raise click.ClickException(f"{path} is empty")
    for start in range(0, len(data), CHUNK):
        yield data[start:start + CHUNK]


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the spoken reply to this WAV file.")
@click.option("--conversation", help="Continue this conversation.")
@url_option
@key_option
def voice(file, out, conversation, url, key):
    """Say FILE to the voice assistant; print the transcript and the reply."""
    path = "/ws/voice" + (f"?conversation_id={conversation}" if conversation else "")
    audio: list[bytes] = []
    with _socket(url, path, key) as ws:
        _expect_json(ws, "ready")
        for chunk in _chunks(file):
            ws.send(chunk)
        ws.send(json.dumps({"type": "end"}))
        while (message := ws.recv(timeout=300)) is not None:
            if isinstance(message, bytes):
                audio.append(message)
                continue
            event = json.loads(message)
            if _show(event):
                break
    if out:
        _save_wavs(audio, out)
        click.echo(f"reply audio: {out}", err=True)


def _show(event: dict) -> bool:
    """Print one voice event; True when the reply is complete."""
    kind = event.get("type")
    if kind == "error":
        raise click.ClickException(f"{event.get('status')}: {event.get('message')}")
    if kind == "transcript":
        click.echo(f"you: {event['text']}")
    elif kind == "emotion":
        click.echo(f"  ({event['label']}, {event['confidence']:.2f})", err=True)
    elif kind == "reply" and event.get("final"):
        click.echo(f"memlane: {event['text']}")
        first = (event.get("timings_ms") or {}).get("first_audio")
        if first is not None:
            click.echo(f"  first audio {first:.0f} ms", err=True)
        return True
    return False


def _expect_json(ws, kind: str) -> dict:
    event = json.loads(ws.recv(timeout=30))
    if event.get("type") == "error":
        raise click.ClickException(f"{event.get('status')}: {event.get('message')}")
    if event.get("type") != kind:
        raise click.ClickException(f"unexpected first message {event}")
    return event


def _save_wavs(pieces: list[bytes], out: Path) -> None:
    if not pieces:
        raise click.ClickException("the server sent no audio (is text-to-speech off?)")
    frames, params = [], None
    for piece in pieces:
        with wave.open(io.BytesIO(piece)) as w:
            params = params or w.getparams()
            frames.append(w.readframes(w.getnframes()))
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(b"".join(frames))


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partials", is_flag=True, help="Also print partial transcripts (stderr).")
@url_option
@key_option
def transcribe(file, partials, url, key):
    """Print the transcript of FILE (WAV, Ogg/Opus, WebM or raw 16 kHz PCM)."""
    with _socket(url, "/ws/transcribe", key) as ws:
        _expect_proto(ws, "ready")
        for chunk in _chunks(file):
            ws.send(pb.ClientMessage(audio=pb.Audio(data=chunk)).SerializeToString())
        ws.send(pb.ClientMessage(end=pb.EndOfStream()).SerializeToString())
        while (message := _expect_proto(ws, None)).WhichOneof("body") != "end":
            t = message.transcript
            if t.final:
                click.echo(t.text)
            elif partials:
                click.echo(f"… {t.text}", err=True)


def _expect_proto(ws, kind: str | None) -> pb.ServerMessage:
    message = pb.ServerMessage()
    message.ParseFromString(ws.recv(timeout=300))
    body = message.WhichOneof("body")
    if body == "error":
        raise click.ClickException(f"{message.error.status}: {message.error.message}")
    if kind and body != kind:
        raise click.ClickException(f"unexpected message {body}")
    return message

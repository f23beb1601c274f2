"""The HTTP side of the client commands: one httpx client, errors as clean messages."""
from __future__ import annotations

import json
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8420"

url_option = click.option("--url", envvar="MEMLANE_URL", default=DEFAULT_URL,
                          show_default=True, help="The memlane server.")
key_option = click.option("--key", envvar="MEMLANE_API_KEY",
                          help="API key (multi-user mode).")


class Api:
    def __init__(self, url: str, key: str | None, timeout: float = 120.0):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def stream_lines(self, path: str):
        try:
            with self.http.stream("GET", path) as response:
                self._check(response)
                yield from response.iter_lines()
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None

    def events(self, path: str, body: dict[str, Any]):
        """POST and yield (event, data) pairs of a Server-Sent Events reply."""
        name = "message"
        try:
            with self.http.stream("POST", path, json=body) as response:
                self._check(response)
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        yield name, json.loads(line[5:])
                        name = "message"
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        self._check(response)
        return response

    def _unreachable(self, exc: Exception) -> click.ClickException:
        return click.ClickException(f"cannot reach memlane at {self.url} ({exc}); "
                                    "start it with `memlane serve` or set MEMLANE_URL")

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        response.read()
        try:
            detail = response.json().get("detail")
        except (json.JSONDecodeError, AttributeError):
            detail = response.text
        if isinstance(detail, list):  # validation details
            detail = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
        raise click.ClickException(f"{response.status_code}: {detail}")


def api_from(url: str, key: str | None) -> Api:
    return Api(url, key)

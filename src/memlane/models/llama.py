"""The local LLM: a GGUF file run by llama.cpp (llama-cpp-python), one generation at a time.

Generation runs in a worker thread and hands its pieces to the event loop through a queue.
When the consumer stops early, the worker stops at the next token and only then frees the
model for the next caller. Prompts go in untouched, so llama.cpp reuses the KV cache for a
prefix shared with the previous call.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ..errors import Unavailable
from .llm import LLM, Delta, Usage

REPEAT_PENALTY = 1.1


class LlamaLLM(LLM):
    def __init__(self, model_path: Path, *, n_ctx: int = 4096, threads: int = 2,
                 prepare: Callable[[], object] | None = None):
        """``prepare`` makes ``model_path`` exist (e.g. assembles packaged chunks) at load."""
        self.model_path = Path(model_path)
        self.name = self.model_path.stem
        self.context_window = n_ctx
        self.threads = threads
        self._prepare = prepare
        self._llama: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # llama.cpp state is not thread-safe
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def load(self) -> None:
        with self._load_lock:
            if self._llama is not None:
                return
            if self._prepare is not None:
                self._prepare()
            try:
                from llama_cpp import Llama
            except ImportError:
                raise Unavailable("the local LLM needs llama-cpp-python: "
                                  "pip install llama-cpp-python==0.3.36") from None
            try:
                self._llama = Llama(model_path=str(self.model_path), n_ctx=self.context_window,
                                    n_threads=self.threads, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise Unavailable(f"cannot load {self.model_path}: {exc}") from None

    def warm_up(self) -> None:
        self.load()
        with self._run_lock:
            self._llama.create_chat_completion([{"role": "user", "content": "Hi"}],
                                               max_tokens=1)

    async def prefill(self, messages: list[dict[str, str]]) -> None:
        """Evaluates ``messages`` into the KV cache; llama.cpp reuses the longest cached
        prefix of the next prompt."""
        async for _ in self.stream([*messages, {"role": "user", "content": "."}],
                                   max_tokens=1, temperature=0.0):
            pass

    async def stream(self, messages: list[dict[str, str]], *, max_tokens: int = 512,
                     temperature: float = 0.2, json_schema: dict[str, Any] | None = None,
                     stop: list[str] | None = None) -> AsyncIterator[Delta]:
        request: dict[str, Any] = {
            "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
            "stop": stop or [], "repeat_penalty": REPEAT_PENALTY, "stream": True}
        if json_schema is not None:
            request["response_format"] = {"type": "json_object", "schema": json_schema}
        loop = asyncio.get_running_loop()
        lock = self._generation_lock(loop)
        await lock.acquire()
        try:
            await asyncio.to_thread(self.load)
        except BaseException:
            lock.release()
            raise
        queue: asyncio.Queue[Delta | Exception] = asyncio.Queue()
        halt = threading.Event()

        def put(item: Delta | Exception) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop has closed: nobody is listening
                halt.set()

        worker = loop.run_in_executor(None, self._generate, request, put, halt)
        worker.add_done_callback(lambda _: lock.release())
        try:
            while True:
                item = await queue.get()
                if isinstance(item, Exception):
                    raise Unavailable(f"{self.name} failed: {item}") from item
                yield item
                if item.finish_reason:
                    return
        finally:
            halt.set()

    def _generation_lock(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        if self._lock is None or self._lock_loop is not loop:  # one lock per event loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    def _generate(self, request: dict[str, Any], put: Callable[[Any], None],
                  halt: threading.Event) -> None:
        try:
            with self._run_lock:
                last = self._run(request, put, halt)
            if last is not None:
                put(last)
        except Exception as exc:
            put(exc)

    def _run(self, request: dict[str, Any], put: Callable[[Any], None],
             halt: threading.Event) -> Delta | None:
        llama, usage, finish = self._llama, Usage(), "length"
        chunks = llama.create_chat_completion(**request)
        try:
            for chunk in chunks:
                if halt.is_set():
                    return None
                choice = chunk["choices"][0]
                finish = choice.get("finish_reason") or finish
                text = choice["delta"].get("content")
                if text is None:
                    continue
                if not usage.completion_tokens:  # one piece per token sampled
                    usage.prompt_tokens = llama.n_tokens
                usage.completion_tokens += 1
                if text:
                    put(Delta(text))
        finally:
            chunks.close()
        usage.prompt_tokens = usage.prompt_tokens or llama.n_tokens
        return Delta(finish_reason=finish, usage=usage)

    def count_tokens(self, text: str) -> int:
        if self._llama is None or not text:
            return super().count_tokens(text)
        return len(self._llama.tokenize(text.encode(), add_bos=False))

    def close(self) -> None:
        """Free the weights once no generation runs: a worker thread that is still
        generating (its consumer gone, say a job cancelled at shutdown) stops at its next
        token; freeing the model under it would crash the process."""
        with self._run_lock:
            llama, self._llama = self._llama, None
            if llama is not None:
                llama.close()

    def info(self) -> dict[str, Any]:
        size = self.model_path.stat().st_size if self.model_path.is_file() else None
        return {**super().info(), "path": str(self.model_path), "size": size,
                "loaded": self._llama is not None}

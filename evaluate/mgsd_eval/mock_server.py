"""A small OpenAI-compatible chat server for tests and benchmarks: answers at once, or injects faults.

Faults are consumed one per chat request, in order, before normal answers: ``429``, ``500``, ``503``,
``empty`` (empty content), ``slow`` (sleeps ``slow_s`` first), ``drop`` (closes the connection without a
response), ``400`` (not retryable), ``length`` (the reply cut at the token limit: ``finish_reason`` "length"),
``length-empty`` (cut before any content). ``delay_s`` delays every answer (to keep requests in flight).
``GET /models`` lists ``models`` (default: ``[model]``; either may be changed while it runs). Usage counts
words: prompt tokens of the request's text parts, completion tokens of the reply.

    python -m mgsd_eval.mock_server --port 8011 [--model mock] [--delay 0.0]

asyncio streams with HTTP/1.1 keep-alive, so one process serves thousands of requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from collections import deque
from collections.abc import Callable


def default_reply(request: dict) -> str:
    return "I would go right.\n<answer>right</answer>"


def _prompt_words(request: dict) -> int:
    """Words in the text of a chat request's messages (the mock's prompt token count)."""
    words = 0
    for message in request.get("messages", []):
        content = message.get("content") or ""
        for part in content if isinstance(content, list) else [{"text": content}]:
            words += len(str(part.get("text", "")).split())
    return words


class MockServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "mock-model",
        faults=(),
        reply: Callable[[dict], str] = default_reply,
        delay_s: float = 0.0,
        slow_s: float = 5.0,
        models: list[str] | None = None,
    ):
        self.host, self.port, self.model, self.models = host, port, model, models
        self.faults = deque(faults)
        self.reply, self.delay_s, self.slow_s = reply, delay_s, slow_s
        self.requests: list[dict] = []  #: chat request bodies, in arrival order
        self.headers: list[dict] = []
        self.chat_count = 0
        self._server = None
        self._loop = None
        self._thread = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # ---- HTTP ----------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                status, payload = await self._route(method, path, headers, body)
                if status is None:  # "drop"
                    writer.close()
                    return
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                    f"Connection: keep-alive\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _route(self, method: str, path: str, headers: dict, body: bytes):
        if method == "GET" and path.rstrip("/").endswith("/models"):
            return 200, {
                "object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "mock"} for m in (self.models or [self.model])],
            }
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            return 404, {"error": {"message": f"no route {method} {path}"}}
        request = json.loads(body or b"{}")
        self.chat_count += 1
        self.requests.append(request)
        self.headers.append(headers)
        fault = self.faults.popleft() if self.faults else None
        if fault == "drop":
            return None, None
        if fault == "slow":
            await asyncio.sleep(self.slow_s)
        if fault in ("429", "500", "503", "400"):
            return int(fault), {"error": {"message": f"injected {fault}", "type": "mock"}}
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = "" if fault in ("empty", "length-empty") else self.reply(request)
        if fault == "length":
            text = text[: len(text) // 2]
        finish = "length" if fault in ("length", "length-empty") else "stop"
        prompt = _prompt_words(request)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt + len(text.split()),
        }
        return 200, {
            "id": f"c{self.chat_count}",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model"),
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
            "usage": usage,
        }

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    def start_in_thread(self) -> MockServer:
        """Run the server on its own event loop in a daemon thread; returns once it listens."""
        ready = threading.Event()

        def main():
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="OpenAI-compatible mock chat server (tests, benchmarks)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--model", default="mock-model")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    args = parser.parse_args(argv)
    server = MockServer(args.host, args.port, args.model, delay_s=args.delay)

    async def run():
        await server.serve()
        print(f"mock server on {server.base_url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

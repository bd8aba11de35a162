"""One asynchronous client for any OpenAI-compatible chat endpoint (vLLM, ``llamafactory-cli api``, closed APIs).

- round-robin over several base URLs (a retry moves on to the next one);
- bounded concurrency (one semaphore; the HTTP pool is sized to match);
- per-request timeout; retries with exponential backoff and jitter on 429, 5xx, timeouts, connection
  errors and empty content; other 4xx fail at once;
- the model name from ``GET /models`` when not given;
- request options (temperature, max_tokens or max_completion_tokens, seed, top_p, extra body) passed through.

The API key never appears in logs, results or errors (:func:`redact`).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import dataclass, field

import openai

#: Options passed through to ``chat.completions.create`` when set.
OPTION_NAMES = ("temperature", "top_p", "seed", "max_tokens", "max_completion_tokens", "stop")


class EndpointError(RuntimeError):
    """A request that failed for good (after retries, or at once for a non-retryable status)."""


@dataclass
class Reply:
    text: str
    endpoint: str
    latency_s: float
    attempts: int
    usage: dict | None = None


@dataclass
class ClientSettings:
    base_urls: list[str]
    api_key: str | None = None
    model: str | None = None
    concurrency: int = 16
    timeout_s: float = 120.0
    retries: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    options: dict = field(default_factory=dict)
    extra_body: dict = field(default_factory=dict)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (and its bearer header form) replaced by ``***``."""
    if secret:
        text = text.replace(secret, "***")
    return text


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, (asyncio.TimeoutError, _EmptyContent))


class _EmptyContent(Exception):
    pass


def _describe(exc: Exception) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"
    if isinstance(exc, (openai.APITimeoutError, asyncio.TimeoutError)):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return f"connection error: {exc.__cause__ or exc}"
    if isinstance(exc, _EmptyContent):
        return "empty content"
    return f"{type(exc).__name__}: {exc}"


class ChatClient:
    """Use as ``async with ChatClient(settings) as client: reply = await client.chat(messages)``."""

    def __init__(self, settings: ClientSettings):
        if not settings.base_urls:
            raise ValueError("no base URL given (--base-url, OPENAI_BASE_URL or an api config file)")
        if settings.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {settings.concurrency}")
        self.settings = settings
        self.model = settings.model
        # Retries are ours (they move on to the next endpoint), so the SDK's own are off.
        self._clients = [
            (url, openai.AsyncOpenAI(base_url=url, api_key=settings.api_key or "EMPTY", max_retries=0,
                                     timeout=settings.timeout_s))
            for url in settings.base_urls
        ]
        self._next = itertools.cycle(range(len(self._clients)))
        self._gate = asyncio.Semaphore(settings.concurrency)

    async def __aenter__(self) -> "ChatClient":
        if not self.model:
            self.model = await self.resolve_model()
        return self

    async def __aexit__(self, *exc) -> None:
        for _, client in self._clients:
            await client.close()

    async def resolve_model(self) -> str:
        """The first model id that ``GET /models`` lists (tried on each endpoint in turn)."""
        errors = []
        for url, client in self._clients:
            try:
                models = await client.models.list()
                ids = [m.id for m in models.data]
                if ids:
                    return ids[0]
                errors.append(f"{url}: no models listed")
            except Exception as exc:  # noqa: BLE001 - every failure is reported below
                errors.append(f"{url}: {_describe(exc)}")
        raise EndpointError(redact("cannot resolve the model name: " + "; ".join(errors), self.settings.api_key))

    def _request(self, messages: list[dict]) -> dict:
        request = {"model": self.model, "messages": messages}
        request.update({k: v for k, v in self.settings.options.items() if k in OPTION_NAMES and v is not None})
        if self.settings.extra_body:
            request["extra_body"] = dict(self.settings.extra_body)
        return request

    async def chat(self, messages: list[dict]) -> Reply:
        """One chat completion with retries; raises :class:`EndpointError` with a redacted reason."""
        settings = self.settings
        request = self._request(messages)
        attempts, last = 0, "no attempt"
        start = time.perf_counter()
        async with self._gate:
            while True:
                url, client = self._clients[next(self._next)]
                attempts += 1
                try:
                    response = await asyncio.wait_for(client.chat.completions.create(**request),
                                                      timeout=settings.timeout_s)
                    text = (response.choices[0].message.content or "") if response.choices else ""
                    if not text.strip():
                        raise _EmptyContent()
                    usage = response.usage.model_dump() if getattr(response, "usage", None) else None
                    return Reply(text, url, time.perf_counter() - start, attempts, usage)
                except Exception as exc:  # noqa: BLE001 - classified below
                    last = f"{url}: {_describe(exc)}"
                    if not _retryable(exc) or attempts > settings.retries:
                        raise EndpointError(redact(f"{last} (after {attempts} attempt(s))", settings.api_key)) from None
                    delay = min(settings.max_backoff_s, settings.backoff_s * 2 ** (attempts - 1))
                    await asyncio.sleep(delay * (0.5 + random.random() / 2))

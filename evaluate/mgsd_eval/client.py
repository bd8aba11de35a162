"""One asynchronous client for any OpenAI-compatible chat endpoint (vLLM, ``llamafactory-cli api``, closed APIs).

- round-robin over several base URLs (a retry moves on to the next one);
- bounded concurrency (one semaphore; the HTTP pool is sized to match);
- per-request timeout; retries with exponential backoff and jitter on 429, 5xx, timeouts, connection
  errors and empty content; other 4xx fail at once;
- several API keys rotated round-robin over requests;
- the model: ``GET /models`` is always asked (the id the server reports is recorded, also for a named model);
- request options (temperature, max_tokens or max_completion_tokens, seed, top_p, stop, extra body) passed through;
- ``finish_reason`` and token usage kept; an empty reply cut at the token limit is an answer, not a fault.

API keys never appear in logs, results or errors (:func:`redact`).
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
    finish_reason: str | None = None


@dataclass
class ServedModel:
    """The model a run talks to: ``model`` is sent in requests; ``served`` is what ``GET /models`` reports for it
    (the named id when listed, the only id a single-model server lists, else None)."""

    model: str
    served: str | None
    listed: list[str]
    guessed: bool  #: no model was named: the first id listed was taken
    warning: str | None = None  #: one line for stderr (a guessed name, an unlisted one, /models unavailable)


@dataclass
class ClientSettings:
    base_urls: list[str]
    api_key: str | list[str] | None = field(default=None, repr=False)  #: one key or several (rotated)
    model: str | None = None
    concurrency: int = 16
    timeout_s: float = 120.0
    retries: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    options: dict = field(default_factory=dict)
    extra_body: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """The API keys in rotation order (empty when none is set)."""
        keys = [self.api_key] if isinstance(self.api_key, str) else list(self.api_key or [])
        return [k for k in keys if k]


def redact(text: str, secret: str | list[str] | None) -> str:
    """``text`` with every occurrence of ``secret`` (one key or several) replaced by ``***``."""
    for key in sorted([secret] if isinstance(secret, str) else (secret or []), key=len, reverse=True):
        if key:
            text = text.replace(key, "***")
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
        self.served: ServedModel | None = None
        keys = settings.keys or ["EMPTY"]
        # Retries are ours (they move on to the next endpoint), so the SDK's own are off. One HTTP pool per
        # endpoint, shared by a client per key.
        self._clients = []
        for url in settings.base_urls:
            base = openai.AsyncOpenAI(base_url=url, api_key=keys[0], max_retries=0, timeout=settings.timeout_s)
            self._clients.append((url, [base] + [base.with_options(api_key=k) for k in keys[1:]]))
        self._next = itertools.cycle(range(len(self._clients)))
        self._next_key = itertools.cycle(range(len(keys)))
        self._gate = asyncio.Semaphore(settings.concurrency)

    async def __aenter__(self) -> ChatClient:
        self.served = await self.resolve_model()
        self.model = self.served.model
        return self

    async def __aexit__(self, *exc) -> None:
        for _, clients in self._clients:
            await clients[0].close()

    async def list_models(self) -> tuple[dict[str, list[str]], list[str]]:
        """(model ids per endpoint that answered ``GET /models``, one redacted reason per endpoint that did not)."""
        listed, errors = {}, []
        for url, clients in self._clients:
            try:
                ids = [m.id for m in (await clients[0].models.list()).data]
                if ids:
                    listed[url] = ids
                else:
                    errors.append(f"{url}: no models listed")
            except Exception as exc:  # noqa: BLE001 - every failure is reported by the caller
                errors.append(redact(f"{url}: {_describe(exc)}", self.settings.keys))
        return listed, errors

    async def resolve_model(self) -> ServedModel:
        """The model to ask and what the endpoints report for it; endpoints serving different models are an error."""
        named = self.settings.model
        listed, errors = await self.list_models()
        if not listed:
            if not named:
                raise EndpointError("cannot resolve the model name: " + "; ".join(errors))
            return ServedModel(
                named, None, [], False, f"GET /models failed ({'; '.join(errors)}); the served model id is not recorded"
            )
        served = {url: _served_id(named, ids) for url, ids in listed.items()}
        if len(set(served.values())) > 1:
            raise EndpointError(
                "the endpoints serve different models: " + ", ".join(f"{url} {sid!r}" for url, sid in served.items())
            )
        ids = next(iter(listed.values()))
        model, sid = named or ids[0], next(iter(served.values()))
        warning = None
        if not named:
            which = "the only model" if len(ids) == 1 else f"the first of {len(ids)} ({_shorten(ids)})"
            warning = f"no --model given; using {model!r}, {which} listed by GET /models; name it with --model"
        elif sid is None:
            warning = f"--model {named!r} is not among the {len(ids)} models GET /models lists ({_shorten(ids)})"
        return ServedModel(model, sid, ids, not named, warning)

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
                url, clients = self._clients[next(self._next)]
                client = clients[next(self._next_key) % len(clients)]
                attempts += 1
                try:
                    response = await asyncio.wait_for(
                        client.chat.completions.create(**request), timeout=settings.timeout_s
                    )
                    choice = response.choices[0] if response.choices else None
                    text = (choice.message.content or "") if choice else ""
                    finish = getattr(choice, "finish_reason", None)
                    if not text.strip() and finish != "length":  # cut at the token limit: an answer, kept
                        raise _EmptyContent()
                    usage = response.usage.model_dump() if getattr(response, "usage", None) else None
                    return Reply(text, url, time.perf_counter() - start, attempts, usage, finish)
                except Exception as exc:  # noqa: BLE001 - classified below
                    last = f"{url}: {_describe(exc)}"
                    if not _retryable(exc) or attempts > settings.retries:
                        raise EndpointError(redact(f"{last} (after {attempts} attempt(s))", settings.keys)) from None
                    delay = min(settings.max_backoff_s, settings.backoff_s * 2 ** (attempts - 1))
                    await asyncio.sleep(delay * (0.5 + random.random() / 2))


def _served_id(named: str | None, ids: list[str]) -> str | None:
    if not named:
        return ids[0]
    return named if named in ids else ids[0] if len(ids) == 1 else None


def _shorten(ids: list[str], n: int = 5) -> str:
    return ", ".join(ids[:n]) + (f", ... {len(ids) - n} more" if len(ids) > n else "")

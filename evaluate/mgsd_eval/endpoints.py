"""Where requests go and with which keys: command-line flags, then ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``,
then an ``api_config_files/*.json`` file.

A config file (templates in ``api_config_files/``, committed with empty keys only)::

    {"base_url": "https://api.openai.com/v1" | ["http://127.0.0.1:8000/v1", ...],
     "api_key": "" | ["key1", "key2"], "model": "gpt-4o",
     "options": {"max_completion_tokens": 4096}, "extra_body": {"top_k": 20}}

Upstream MGSD's files are read as they are: the key may also be called ``key``, ``token``, ``openai_api_key``
or ``azure_openai_api_key``, the URL ``api_base``, ``openai_base_url``, ``url`` or ``azure_openai_endpoint``
(an Azure endpoint is used as a plain OpenAI-compatible one, e.g. ``https://NAME.openai.azure.com/openai/v1``).
A list of keys is rotated round-robin over requests. An empty key means: take it from ``OPENAI_API_KEY``.
``options`` that are not request fields the client knows are sent in the request body as they are.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from task_envs.errors import TaskError

from .client import OPTION_NAMES

KEY_FIELDS = ("api_key", "key", "token", "openai_api_key", "azure_openai_api_key")
URL_FIELDS = ("base_url", "api_base", "openai_base_url", "url", "azure_openai_endpoint")


@dataclass
class EndpointConfig:
    base_urls: list[str]
    api_keys: list[str] = field(repr=False)
    model: str | None
    options: dict = field(default_factory=dict)
    extra_body: dict = field(default_factory=dict)


def _strings(value) -> list[str] | None:
    """A string or a list of strings as a list; None for anything else."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _first(data: dict, names: tuple[str, ...], path: Path) -> list[str]:
    """The non-empty strings of the first of ``names`` that has any (a key's value is never printed)."""
    for name in names:
        if data.get(name) is None:
            continue
        values = _strings(data[name])
        if values is None:
            raise TaskError(f"{path}: field '{name}' must be a string or a list of strings")
        if any(v.strip() for v in values):
            return [v.strip() for v in values if v.strip()]
    return []


def read_config(path: str | Path) -> dict:
    """The config file as ``{"base_urls", "api_keys", "model", "options", "extra_body"}``; one-line errors."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskError(f"{path}: api config file not found") from None
    except json.JSONDecodeError as exc:
        raise TaskError(f"{path}: not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise TaskError(f"{path}: expected a JSON object")
    if data.get("model") is not None and not isinstance(data["model"], str):
        raise TaskError(f"{path}: field 'model' must be a string")
    for name in ("options", "extra_body"):
        if not isinstance(data.get(name) or {}, dict):
            raise TaskError(f"{path}: field '{name}' must be an object")
    options = dict(data.get("options") or {})
    extra = {k: options.pop(k) for k in list(options) if k not in OPTION_NAMES}
    return {
        "base_urls": _first(data, URL_FIELDS, path),
        "api_keys": _first(data, KEY_FIELDS, path),
        "model": data.get("model") or None,
        "options": options,
        "extra_body": {**extra, **(data.get("extra_body") or {})},
    }


def resolve_endpoint(
    base_urls: list[str] | None = None, model: str | None = None, api_config: str | None = None, env: dict | None = None
) -> EndpointConfig:
    """Flags win over the environment, which wins over the config file."""
    env = os.environ if env is None else env
    file = read_config(api_config) if api_config else {}
    urls = list(base_urls or [])
    if not urls and env.get("OPENAI_BASE_URL"):
        urls = [env["OPENAI_BASE_URL"]]
    if not urls:
        urls = file.get("base_urls") or []
    if not urls:
        raise TaskError("no endpoint: pass --base-url, set OPENAI_BASE_URL or give --api-config with a base_url")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise TaskError(f"--base-url: expected an http(s) URL, got {url!r}")
    keys = [env["OPENAI_API_KEY"]] if env.get("OPENAI_API_KEY") else file.get("api_keys") or []
    return EndpointConfig(
        [u.rstrip("/") for u in urls],
        keys,
        model or file.get("model"),
        dict(file.get("options") or {}),
        dict(file.get("extra_body") or {}),
    )

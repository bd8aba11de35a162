"""Where requests go and with which key: command-line flags, then ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``,
then an ``api_config_files/*.json`` file.

A config file (templates in ``api_config_files/``, committed with empty keys only)::

    {"base_url": "https://api.openai.com/v1" | ["http://127.0.0.1:8000/v1", ...],
     "api_key": "", "model": "gpt-4o", "options": {"max_completion_tokens": 4096}}

An empty ``api_key`` in the file means: take it from ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from task_envs.errors import TaskError


@dataclass
class EndpointConfig:
    base_urls: list[str]
    api_key: str | None
    model: str | None
    options: dict = field(default_factory=dict)


def _read_config(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskError(f"{path}: api config file not found") from None
    except json.JSONDecodeError as exc:
        raise TaskError(f"{path}: not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise TaskError(f"{path}: expected a JSON object")
    for key in ("api_key", "model"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise TaskError(f"{path}: field '{key}' must be a string")
    urls = data.get("base_url")
    if urls is not None and not (isinstance(urls, str) or (isinstance(urls, list) and all(isinstance(u, str) for u in urls))):
        raise TaskError(f"{path}: field 'base_url' must be a string or a list of strings")
    if not isinstance(data.get("options", {}), dict):
        raise TaskError(f"{path}: field 'options' must be an object")
    return data


def resolve_endpoint(base_urls: list[str] | None = None, model: str | None = None, api_config: str | None = None,
                     env: dict | None = None) -> EndpointConfig:
    """Flags win over the environment, which wins over the config file."""
    env = os.environ if env is None else env
    file = _read_config(api_config) if api_config else {}
    urls = list(base_urls or [])
    if not urls and env.get("OPENAI_BASE_URL"):
        urls = [env["OPENAI_BASE_URL"]]
    if not urls and file.get("base_url"):
        urls = [file["base_url"]] if isinstance(file["base_url"], str) else list(file["base_url"])
    if not urls:
        raise TaskError("no endpoint: pass --base-url, set OPENAI_BASE_URL or give --api-config with a base_url")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise TaskError(f"--base-url: expected an http(s) URL, got {url!r}")
    key = env.get("OPENAI_API_KEY") or file.get("api_key") or None
    return EndpointConfig([u.rstrip("/") for u in urls], key, model or file.get("model") or None,
                          dict(file.get("options") or {}))

"""The client against a fault-injecting local server: retries, timeouts, round-robin, options, model discovery."""

import asyncio
import base64

import pytest

from mgsd_eval.client import ChatClient, ClientSettings, EndpointError

MESSAGES = [{"role": "user", "content": "hello"}]


def chat(settings, messages=MESSAGES):
    async def go():
        async with ChatClient(settings) as client:
            return client.model, await client.chat(messages)

    return asyncio.run(go())


def test_retries_every_transient_failure_then_succeeds(mock_server):
    server = mock_server(faults=["429", "500", "503", "empty", "drop"])
    model, reply = chat(ClientSettings([server.base_url], retries=5, backoff_s=0.01))
    assert model == "mock-model"  # from GET /models
    assert reply.attempts == 6 and "<answer>" in reply.text and server.chat_count == 6


def test_gives_up_after_the_retry_budget_and_never_retries_a_400(mock_server):
    server = mock_server(faults=["500"] * 3)
    with pytest.raises(EndpointError, match=r"HTTP 500.*after 3 attempt"):
        chat(ClientSettings([server.base_url], model="m", retries=2, backoff_s=0.01))
    server = mock_server(faults=["400"])
    with pytest.raises(EndpointError, match=r"HTTP 400.*after 1 attempt"):
        chat(ClientSettings([server.base_url], model="m", retries=5, backoff_s=0.01))
    assert server.chat_count == 1


def test_timeout_is_retried(mock_server):
    server = mock_server(faults=["slow"], slow_s=3.0)
    _, reply = chat(ClientSettings([server.base_url], model="m", timeout_s=0.5, retries=1, backoff_s=0.01))
    assert reply.attempts == 2
    server = mock_server(faults=["slow"], slow_s=3.0)
    with pytest.raises(EndpointError, match="timeout"):
        chat(ClientSettings([server.base_url], model="m", timeout_s=0.5, retries=0))


def test_round_robin_and_options_pass_through(mock_server):
    a, b = mock_server(), mock_server()
    settings = ClientSettings(
        [a.base_url, b.base_url],
        model="m",
        concurrency=4,
        options={"temperature": 0.3, "top_p": 0.9, "seed": 7, "max_completion_tokens": 99},
        extra_body={"top_k": 5},
    )

    async def go():
        async with ChatClient(settings) as client:
            return await asyncio.gather(*(client.chat(MESSAGES) for _ in range(10)))

    replies = asyncio.run(go())
    assert {r.endpoint for r in replies} == {a.base_url, b.base_url}
    assert a.chat_count == b.chat_count == 5
    body = a.requests[0]
    assert (
        body["model"],
        body["temperature"],
        body["top_p"],
        body["seed"],
        body["max_completion_tokens"],
        body["top_k"],
    ) == ("m", 0.3, 0.9, 7, 99, 5)
    assert "max_tokens" not in body


def test_concurrency_is_bounded(mock_server):
    server = mock_server(delay_s=0.05)
    peak, current = 0, 0
    original = server._route

    async def counting(*args):
        nonlocal peak, current
        current += 1
        peak = max(peak, current)
        try:
            return await original(*args)
        finally:
            current -= 1

    server._route = counting

    async def go():
        async with ChatClient(ClientSettings([server.base_url], model="m", concurrency=3)) as client:
            await asyncio.gather(*(client.chat(MESSAGES) for _ in range(12)))

    asyncio.run(go())
    assert peak == 3


def test_images_go_as_base64_image_url_parts(mock_server, test_split):
    from mgsd_eval.pipelines import build_cases

    server = mock_server()
    case = build_cases("planning", [str(test_split)], limit=1)[0]
    chat(ClientSettings([server.base_url], model="m"), case.messages())
    (message,) = server.requests[0]["messages"]
    kinds = [p["type"] for p in message["content"]]
    assert kinds == ["image_url", "text"]
    url = message["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == case.image.read_bytes()


def served(settings):
    async def go():
        async with ChatClient(settings) as client:
            return client.served

    return asyncio.run(go())


def test_the_served_model_is_asked_also_for_a_named_model(mock_server):
    one = mock_server(model="ckpt")
    info = served(ClientSettings([one.base_url], model="alias"))
    assert (info.model, info.served, info.guessed, info.warning) == ("alias", "ckpt", False, None)
    several = mock_server(models=["a", "b"])
    assert served(ClientSettings([several.base_url], model="b")).served == "b"
    info = served(ClientSettings([several.base_url]))
    assert (info.model, info.served, info.guessed) == ("a", "a", True) and "first of 2 (a, b)" in info.warning


def test_endpoints_serving_different_models_are_an_error(mock_server):
    a, b = mock_server(model="x"), mock_server(model="y")
    with pytest.raises(EndpointError, match=r"the endpoints serve different models: .* 'x', .* 'y'"):
        served(ClientSettings([a.base_url, b.base_url]))


def test_a_named_model_survives_an_endpoint_without_models(mock_server):
    server = mock_server()
    original = server._route

    async def no_models(method, path, headers, body):
        if method == "GET":
            return 404, {"error": {"message": "no such route"}}
        return await original(method, path, headers, body)

    server._route = no_models
    info = served(ClientSettings([server.base_url], model="m"))
    assert (info.model, info.served) == ("m", None) and info.warning.startswith("GET /models failed (")
    with pytest.raises(EndpointError, match="cannot resolve the model name"):
        served(ClientSettings([server.base_url]))


def test_reply_keeps_finish_reason_and_usage(mock_server):
    server = mock_server(faults=["length"])
    _, reply = chat(ClientSettings([server.base_url], model="m"))
    assert reply.finish_reason == "length" and reply.attempts == 1
    assert reply.usage["prompt_tokens"] == 1 and reply.usage["completion_tokens"] == len(reply.text.split())
    _, reply = chat(ClientSettings([server.base_url], model="m"))
    assert reply.finish_reason == "stop"

"""api config files: upstream MGSD's format and field names, a list of keys rotated round-robin over requests,
extra request fields; keys never in output, logs, errors or run files."""

import json

import pytest
from evalhelpers import mgsd, mgsd_inproc

KEYS = ["sk-first-0123456789", "sk-second-0123456789", "sk-third-0123456789"]


def run_with(capsys, config_path, data, run, *flags):
    return mgsd_inproc(
        capsys,
        "eval",
        "planning",
        "--data",
        data,
        "--out",
        run,
        "--api-config",
        config_path,
        "--model",
        "m",
        "--limit",
        "1",
        "--quiet",
        *flags,
    )


def bearer(server) -> list[str]:
    return [h["authorization"].removeprefix("Bearer ") for h in server.headers]


def test_a_list_of_keys_is_rotated_over_requests(mock_server, test_split, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = mock_server()
    config = tmp_path / "api.json"
    config.write_text(json.dumps({"api_key": KEYS, "base_url": server.base_url}))  # upstream's format
    rc, out, err = run_with(capsys, config, test_split, tmp_path / "run", "--concurrency", "1")
    assert rc == 0, err
    used = bearer(server)
    assert len(used) > 6 and used == [KEYS[i % 3] for i in range(len(used))]
    files = [p.read_text() for p in (tmp_path / "run").iterdir()]
    assert not any(k in t for k in KEYS for t in [out, err, *files])


@pytest.mark.parametrize(
    "key_field, url_field",
    [
        ("azure_openai_api_key", "azure_openai_endpoint"),
        ("key", "api_base"),
        ("token", "url"),
        ("openai_api_key", "openai_base_url"),
    ],
)
def test_upstream_field_names_are_read(mock_server, test_split, tmp_path, capsys, monkeypatch, key_field, url_field):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = mock_server()
    config = tmp_path / "api.json"
    config.write_text(json.dumps({key_field: [KEYS[1]], url_field: server.base_url}))
    assert run_with(capsys, config, test_split, tmp_path / "run")[0] == 0
    assert set(bearer(server)) == {KEYS[1]}


def test_empty_keys_defer_to_the_environment_which_wins(mock_server, test_split, tmp_path, capsys, monkeypatch):
    server = mock_server()
    config = tmp_path / "api.json"
    config.write_text(json.dumps({"api_key": [""], "base_url": server.base_url}))  # upstream's committed template
    monkeypatch.setenv("OPENAI_API_KEY", KEYS[2])
    assert run_with(capsys, config, test_split, tmp_path / "a")[0] == 0
    config.write_text(json.dumps({"api_key": KEYS[:2], "base_url": server.base_url}))
    assert run_with(capsys, config, test_split, tmp_path / "b")[0] == 0
    assert set(bearer(server)) == {KEYS[2]}


def test_options_the_client_does_not_know_go_into_the_body(mock_server, test_split, tmp_path, capsys):
    server = mock_server()
    config = tmp_path / "api.json"
    config.write_text(
        json.dumps(
            {
                "base_url": server.base_url,
                "api_key": "",
                "options": {"temperature": 0.2, "top_k": 20},
                "extra_body": {"min_p": 0.1},
            }
        )
    )
    assert run_with(capsys, config, test_split, tmp_path / "run", "--extra-body", '{"top_k": 7}')[0] == 0
    body = server.requests[0]
    assert (body["temperature"], body["top_k"], body["min_p"]) == (0.0, 7, 0.1)  # flags win over the file
    options = json.loads((tmp_path / "run" / "run.json").read_text())["options"]
    assert options["extra_body"] == {"top_k": 7, "min_p": 0.1} and options["temperature"] == 0.0


@pytest.mark.parametrize(
    "content, message",
    [
        ({"api_key": 5}, "field 'api_key' must be a string or a list of strings"),
        ({"api_key": [KEYS[0], 5]}, "field 'api_key' must be a string or a list of strings"),
        ({"key": {"value": KEYS[0]}}, "field 'key' must be a string or a list of strings"),
        ({"base_url": 3}, "field 'base_url' must be a string or a list of strings"),
        ({"options": [KEYS[0]]}, "field 'options' must be an object"),
    ],
)
def test_bad_fields_are_one_line_without_the_key(test_split, tmp_path, capsys, content, message):
    config = tmp_path / "api.json"
    config.write_text(json.dumps(content))
    rc, _, err = run_with(capsys, config, test_split, tmp_path / "run")
    assert (rc, err) == (2, f"mgsd: error: {config}: {message}\n")


def test_no_key_appears_even_when_the_server_echoes_it(mock_server, test_split, tmp_path):
    """Errors of chat requests and of GET /models that quote the Authorization header are redacted everywhere."""
    server = mock_server(faults=["400"] * 100)
    original = server._route

    async def echoing(method, path, headers, body):
        status, payload = await original(method, path, headers, body)
        if method == "GET":
            return 401, {"error": {"message": f"no models for {headers.get('authorization')}"}}
        if status == 400:
            payload = {"error": {"message": f"bad request with {headers.get('authorization')}"}}
        return status, payload

    server._route = echoing
    config = tmp_path / "api.json"
    config.write_text(json.dumps({"api_key": KEYS, "base_url": server.base_url}))
    run = tmp_path / "run"
    proc = mgsd(
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(run),
        "--api-config",
        str(config),
        "--model",
        "m",
        "--limit",
        "1",
        "--retries",
        "0",
        env={"OPENAI_API_KEY": ""},
    )
    assert proc.returncode == 1
    assert {h["authorization"] for h in server.headers} == {f"Bearer {k}" for k in KEYS}  # the keys were used...
    texts = [proc.stdout, proc.stderr] + [p.read_text() for p in run.iterdir() if p.is_file()]
    assert not any(k in t for k in KEYS for t in texts)  # ...and written nowhere
    assert (
        "no models for Bearer ***" in proc.stderr
        and "bad request with Bearer ***" in (run / "results.jsonl").read_text()
    )
    # without a named model the /models failure is the error itself
    proc = mgsd(
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(tmp_path / "r2"),
        "--api-config",
        str(config),
        "--limit",
        "1",
        env={"OPENAI_API_KEY": ""},
    )
    assert proc.returncode == 2 and "Bearer ***" in proc.stderr and not any(k in proc.stderr for k in KEYS)


def test_settings_do_not_show_their_keys():
    from mgsd_eval.client import ClientSettings
    from mgsd_eval.endpoints import resolve_endpoint

    assert KEYS[0] not in repr(ClientSettings(["http://x/v1"], KEYS))
    assert KEYS[0] not in repr(resolve_endpoint(["http://x/v1"], env={"OPENAI_API_KEY": KEYS[0]}))

"""The test server's core: lifecycle, rules, echo fallback, request log, holding, API keys."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest

from llmassert import ConfigError
from llmassert.testing import (
    ErrorReply,
    Fault,
    LLMServer,
    Reply,
    Rule,
    ServerRequest,
    fingerprint,
)

SECRET = "sk-live-THIS-MUST-NEVER-BE-STORED-1234"


def _client(server: LLMServer, **kwargs: Any) -> openai.OpenAI:
    kwargs.setdefault("api_key", "test-key")
    return openai.OpenAI(base_url=server.openai_base_url, max_retries=0, **kwargs)


def _ask(server: LLMServer, prompt: str, model: str = "m", **kwargs: Any) -> str:
    with _client(server) as client:  # closed: no socket left for the GC to warn about
        completion = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}], **kwargs
        )
    return completion.choices[0].message.content or ""


def _http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


# ---------------------------------------------------------------- lifecycle


def test_context_manager_serves_and_stops() -> None:
    with LLMServer([Rule("pong", prompt="ping")]) as server:
        assert server.running
        assert server.url.startswith("http://127.0.0.1:")
        assert server.openai_base_url == server.url + "/v1"
        assert server.anthropic_base_url == server.url
        assert _ask(server, "ping") == "pong"
        url = server.url
    assert not server.running
    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=2).models.list()


def test_start_and_stop_are_idempotent() -> None:
    server = LLMServer()
    server.stop()  # never started: nothing to do
    assert server.start() is server
    port = server.port
    server.start()
    assert server.port == port
    server.stop()
    server.stop()
    assert not server.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    server.start()  # restartable
    assert _ask(server, "again") == "again"
    server.stop()


def test_start_stop_from_many_threads_at_once() -> None:
    server = LLMServer()
    barrier = threading.Barrier(8)
    ports: list[int] = []

    def start() -> None:
        barrier.wait()
        ports.append(server.start().port)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ports)) == 1
    assert _ask(server, "one server") == "one server"
    stoppers = [threading.Thread(target=server.stop) for _ in range(8)]
    for thread in stoppers:
        thread.start()
    for thread in stoppers:
        thread.join()
    assert not server.running


def test_port_in_use_is_a_config_error() -> None:
    with LLMServer() as first:
        expected = rf"cannot listen on 127\.0\.0\.1:{first.port}"
        with pytest.raises(ConfigError, match=expected):
            LLMServer(port=first.port).start()


def test_invalid_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="port"):
        LLMServer(port=70000)
    with pytest.raises(ConfigError, match="fault must be a Fault"):
        LLMServer(fault="slow")  # type: ignore[arg-type]


# ---------------------------------------------------------------- rules


def test_echo_fallback_returns_the_last_user_message(llm_server: LLMServer) -> None:
    completion = _client(llm_server).chat.completions.create(
        model="m",
        messages=[
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "second"}]},
        ],
    )
    assert completion.choices[0].message.content == "second"
    request = llm_server.last_request
    assert request is not None
    assert request.prompt == "second"
    assert [m["role"] for m in request.messages] == ["system", "user", "assistant", "user"]
    assert request.messages[0]["content"] == "be nice"


def test_first_matching_rule_wins_and_conditions_combine(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("exact", prompt="hello", model="a"))
    llm_server.add_rule(Rule("regex", prompt_regex=r"hel+o"))
    llm_server.add_rule("predicate", when=lambda r: r.body.get("temperature") == 0)
    llm_server.add_rule(Rule("anthropic only", provider="anthropic"))
    assert _ask(llm_server, "hello", model="a") == "exact"
    assert _ask(llm_server, "hello", model="b") == "regex"
    assert _ask(llm_server, "say helllo") == "regex"
    assert _ask(llm_server, "other", temperature=0) == "predicate"
    assert _ask(llm_server, "other") == "other"  # echo: the anthropic rule does not match


def test_rule_api_restriction(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("from completions", api="completions"))
    client = _client(llm_server)
    assert client.completions.create(model="m", prompt="x").choices[0].text == "from completions"
    assert _ask(llm_server, "x") == "x"


def test_times_limits_a_rule_then_later_rules_answer(llm_server: LLMServer) -> None:
    once = llm_server.add_rule(Rule("first answer", times=1))
    llm_server.add_rule(Rule("later answer"))
    assert [_ask(llm_server, "q") for _ in range(3)] == [
        "first answer",
        "later answer",
        "later answer",
    ]
    assert once.uses == 1


def test_callable_reply_sees_the_request(llm_server: LLMServer) -> None:
    def reply(request: ServerRequest) -> Reply:
        return Reply(text=f"{request.model}:{request.prompt.upper()}")

    llm_server.add_rule(Rule(reply))
    assert _ask(llm_server, "shout", model="gpt-x") == "gpt-x:SHOUT"


def test_set_and_clear_rules(llm_server: LLMServer) -> None:
    llm_server.set_rules([Rule("a"), "b"])
    assert len(llm_server.rules) == 2
    assert _ask(llm_server, "q") == "a"
    llm_server.clear_rules()
    assert _ask(llm_server, "q") == "q"


def test_a_raising_rule_answers_500_and_is_reported(llm_server: LLMServer) -> None:
    def broken(request: ServerRequest) -> str:
        raise KeyError("no such thing")

    llm_server.add_rule(Rule(broken, name="broken"))
    with pytest.raises(openai.InternalServerError, match="rule 'broken' raised KeyError"):
        _ask(llm_server, "q")
    assert llm_server.errors == [
        "llmassert test server: rule 'broken' raised KeyError: 'no such thing'"
    ]


def test_rule_arguments_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"invalid prompt_regex '\('"):
        Rule("x", prompt_regex="(")
    with pytest.raises(ConfigError, match="unknown api 'chat'"):
        Rule("x", api="chat")
    with pytest.raises(ConfigError, match="unknown provider 'google'"):
        Rule("x", provider="google")
    with pytest.raises(ConfigError, match="times must be a whole number >= 1"):
        Rule("x", times=0)
    with pytest.raises(ConfigError, match="reply must be a Reply"):
        Rule(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"Fault.latency_s: expected seconds >= 0"):
        Fault(latency_s=-1)
    with pytest.raises(ConfigError, match=r"Fault\.stream_error_after"):
        Fault(stream_error_after=-2)
    for count in (0, True, 2.5):
        with pytest.raises(ConfigError, match=r"Fault\.hold_until_in_flight: expected a whole"):
            Fault(hold_until_in_flight=count)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"Fault\.hold_timeout_s: expected seconds >= 0"):
        Fault(hold_until_in_flight=2, hold_timeout_s=-1)


def test_error_reply_from_a_rule(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(ErrorReply(status=404, message="no model"), model="gone"))
    with pytest.raises(openai.NotFoundError, match="no model"):
        _ask(llm_server, "q", model="gone")


# ---------------------------------------------------------------- request log


def test_request_log_keeps_everything_but_secrets(llm_server: LLMServer) -> None:
    client = openai.OpenAI(
        base_url=llm_server.openai_base_url,
        api_key=SECRET,
        organization="org-secret-org",
        project="proj-secret-project",
        max_retries=0,
        default_headers={"Cookie": "session=abc", "X-Trace": "t-1"},
    )
    client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "log me"}], temperature=0.5
    )
    (request,) = llm_server.requests
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.api == "chat.completions"
    assert request.provider == "openai"
    assert request.body["temperature"] == 0.5
    assert request.model == "m"
    assert request.request_id.startswith("req_")
    assert request.headers["x-trace"] == "t-1"
    assert request.headers["authorization"] == fingerprint(f"Bearer {SECRET}")
    assert request.headers["openai-organization"] == fingerprint("org-secret-org")
    assert request.headers["openai-project"] == fingerprint("proj-secret-project")
    assert request.headers["cookie"] == fingerprint("session=abc")
    everything = repr(llm_server.requests)
    for secret in (SECRET, "org-secret-org", "proj-secret-project", "session=abc"):
        assert secret not in everything


def test_x_api_key_and_api_key_headers_are_fingerprinted(llm_server: LLMServer) -> None:
    status, _, _ = _http(
        llm_server.openai_base_url + "/chat/completions",
        data=json.dumps({"model": "m", "messages": []}).encode(),
        headers={"x-api-key": SECRET, "api-key": SECRET, "content-type": "application/json"},
    )
    assert status == 200
    request = llm_server.last_request
    assert request is not None
    assert request.headers["x-api-key"] == fingerprint(SECRET)
    assert request.headers["api-key"] == fingerprint(SECRET)
    assert SECRET not in repr(request)


def test_key_like_query_parameters_are_fingerprinted(llm_server: LLMServer) -> None:
    client = openai.OpenAI(
        base_url=llm_server.openai_base_url,
        api_key="k",
        max_retries=0,
        default_query={"api-version": "2024-10-21", "key": SECRET, "Access_Token": SECRET},
    )
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    request = llm_server.last_request
    assert request is not None
    assert request.query == {
        "api-version": "2024-10-21",
        "key": fingerprint(SECRET),
        "Access_Token": fingerprint(SECRET),
    }
    assert SECRET not in repr(llm_server.requests)


def test_requests_are_logged_in_order_with_counters(llm_server: LLMServer) -> None:
    for i in range(3):
        _ask(llm_server, f"q{i}")
    assert [r.prompt for r in llm_server.requests] == ["q0", "q1", "q2"]
    assert llm_server.request_count == 3
    assert llm_server.in_flight == 0
    assert llm_server.max_in_flight == 1
    snapshot = llm_server.requests
    snapshot.clear()
    assert len(llm_server.requests) == 3  # a copy
    llm_server.reset_counters()
    assert llm_server.request_count == 0
    assert len(llm_server.requests) == 3


def test_reset_clears_rules_fault_log_and_counters(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("scripted"))
    llm_server.fault = Fault(latency_s=0.001)
    _ask(llm_server, "q")
    llm_server.reset()
    assert llm_server.rules == []
    assert llm_server.fault is None
    assert llm_server.requests == []
    assert llm_server.last_request is None
    assert llm_server.request_count == 0
    assert _ask(llm_server, "q") == "q"


def test_invalid_json_body_is_a_400_in_openai_shape(llm_server: LLMServer) -> None:
    status, headers, body = _http(
        llm_server.openai_base_url + "/chat/completions",
        data=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert "could not parse the JSON body" in body["error"]["message"]
    assert headers["x-request-id"].startswith("req_")


def test_missing_model_is_a_400(llm_server: LLMServer) -> None:
    status, _, body = _http(
        llm_server.openai_base_url + "/chat/completions",
        data=json.dumps({"messages": []}).encode(),
        headers={"content-type": "application/json"},
    )
    assert status == 400
    assert body["error"]["param"] == "model"


# ---------------------------------------------------------------- API key


def test_require_api_key() -> None:
    with LLMServer(require_api_key="sk-test") as server:
        ok = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0)
        assert (
            ok.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            .choices[0]
            .message.content
            == "hi"
        )
        bad = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as exc:
            bad.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert exc.value.status_code == 401
        assert exc.value.code == "invalid_api_key"
        status, _, body = _http(server.openai_base_url + "/models")
        assert status == 401
        assert body["error"]["code"] == "invalid_api_key"


# ---------------------------------------------------------------- holding replies


def test_hold_and_release(llm_server: LLMServer) -> None:
    llm_server.hold()
    results: list[str] = []
    thread = threading.Thread(target=lambda: results.append(_ask(llm_server, "held")))
    thread.start()
    assert llm_server.wait_for_in_flight(1, timeout=5)
    assert results == []
    llm_server.release()
    thread.join(timeout=5)
    assert results == ["held"]
    assert llm_server.in_flight == 0


def test_wait_for_helpers_time_out_and_succeed(llm_server: LLMServer) -> None:
    assert llm_server.wait_for_requests(1, timeout=0.01) is False
    assert llm_server.wait_for_in_flight(1, timeout=0.01) is False
    assert llm_server.wait_for_requests(0, timeout=0) is True
    assert _ask(llm_server, "one") == "one"
    assert llm_server.wait_for_requests(1, timeout=0.01) is True
    assert llm_server.wait_for_requests(2, timeout=0.01) is False
    assert llm_server.wait_for_in_flight(1, timeout=0.01) is False  # answered: not in flight


def test_stop_does_not_wait_for_held_or_hung_requests() -> None:
    server = LLMServer(fault=Fault(hang=True)).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            _ask(server, "hang")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert server.wait_for_in_flight(1, timeout=5)
    server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], openai.APIConnectionError)


# ---------------------------------------------------------------- routes


@pytest.mark.parametrize("prefix", ["/v1", "/openai/v1"])
def test_openai_routes_under_both_prefixes(llm_server: LLMServer, prefix: str) -> None:
    client = openai.OpenAI(base_url=llm_server.url + prefix, api_key="k", max_retries=0)
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "via prefix"}]
    )
    assert completion.choices[0].message.content == "via prefix"
    request = llm_server.last_request
    assert request is not None
    assert request.path == f"{prefix}/chat/completions"


def test_requests_from_before_a_reset_do_not_count(llm_server: LLMServer) -> None:
    llm_server.hold()
    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(_ask(llm_server, "before")))
    thread.start()
    assert llm_server.wait_for_in_flight(1, timeout=5)
    llm_server.reset_counters()
    assert (llm_server.in_flight, llm_server.request_count, llm_server.max_in_flight) == (0, 0, 0)
    llm_server.release()
    thread.join(timeout=5)
    assert answers == ["before"]
    _ask(llm_server, "after")
    assert (llm_server.in_flight, llm_server.request_count, llm_server.max_in_flight) == (0, 1, 1)


def test_azure_openai_client_with_deployment_paths(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("from azure", model="my-deployment"))
    client = openai.AzureOpenAI(
        azure_endpoint=llm_server.url, api_key=SECRET, api_version="2024-10-21", max_retries=0
    )
    completion = client.chat.completions.create(
        model="my-deployment", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "from azure"
    request = llm_server.last_request
    assert request is not None
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    assert request.headers["api-key"] == fingerprint(SECRET)
    embedding = client.embeddings.create(model="my-embedder", input="x", dimensions=4)
    assert len(embedding.data[0].embedding) == 4


def test_require_api_key_answers_in_the_anthropic_shape() -> None:
    import anthropic

    with LLMServer(require_api_key="sk-ant-test") as server:
        good = anthropic.Anthropic(
            base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0
        )
        message = good.messages.create(
            model="claude", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
        assert message.content[0].type == "text"
        bad = anthropic.Anthropic(
            base_url=server.url + "/anthropic", api_key="sk-ant-wrong", max_retries=0
        )
        with pytest.raises(anthropic.AuthenticationError) as caught:
            bad.messages.create(
                model="claude", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
        body: Any = caught.value.body
        assert body["type"] == "error"
        assert body["error"]["type"] == "authentication_error"
        assert body["request_id"] == caught.value.request_id
        assert caught.value.response.headers["request-id"] == caught.value.request_id
        request = server.last_request
        assert request is not None
        assert request.path == "/anthropic/v1/messages"
        assert request.headers["authorization"] == fingerprint("Bearer sk-ant-wrong")
        assert "sk-ant-wrong" not in repr(server.requests)


def test_unknown_paths_get_a_helpful_404(llm_server: LLMServer) -> None:
    client = openai.OpenAI(base_url=llm_server.url, api_key="k", max_retries=0)  # no /v1
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    message = caught.value.message
    assert "does not serve POST /chat/completions" in message
    assert "lacks the /v1 prefix" in message
    assert "POST /v1/chat/completions" in message
    status, _, body = _http(llm_server.url + "/v1/images/generations", data=b"{}")
    assert status == 404
    assert "lacks the /v1 prefix" not in body["error"]["message"]
    assert llm_server.requests == []  # not an API request: not logged
    import anthropic

    with (
        anthropic.Anthropic(
            base_url=llm_server.url + "/nowhere", api_key="k", max_retries=0
        ) as wrong,
        pytest.raises(anthropic.NotFoundError) as anthropic_caught,
    ):
        wrong.messages.create(
            model="claude", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    anthropic_body: Any = anthropic_caught.value.body
    assert anthropic_body["type"] == "error"
    assert anthropic_body["error"]["type"] == "not_found_error"
    assert "does not serve POST /nowhere/v1/messages" in anthropic_body["error"]["message"]
    assert anthropic_body["request_id"] == anthropic_caught.value.request_id


def test_on_request_hook_sees_every_request_and_cannot_break_the_server() -> None:
    seen: list[str] = []

    def hook(request: ServerRequest) -> None:
        seen.append(request.prompt)
        if request.prompt == "boom":
            raise RuntimeError("logger broke")

    with LLMServer(on_request=hook) as server:
        assert _ask(server, "one") == "one"
        assert _ask(server, "boom") == "boom"
        assert seen == ["one", "boom"]
        assert server.errors == [
            "llmassert test server: on_request raised RuntimeError('logger broke')"
        ]


def test_binding_a_public_interface_warns() -> None:
    from llmassert.testing._server import PublicInterfaceWarning

    server = LLMServer(host="0.0.0.0")
    with pytest.warns(PublicInterfaceWarning, match=r"0\.0\.0\.0:\d+, which is not a loopback"):
        server.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
        assert client.models.list().data
    finally:
        server.stop()


def test_a_rule_callable_may_hold_the_server(llm_server: LLMServer) -> None:
    def hold_after_this(request: ServerRequest) -> str:
        llm_server.hold()
        return "first"

    llm_server.add_rule(Rule(hold_after_this, times=1))
    assert _ask(llm_server, "q") == "first"
    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(_ask(llm_server, "second")))
    thread.start()
    assert llm_server.wait_for_in_flight(1, timeout=5)
    assert answers == []
    llm_server.release()
    thread.join(timeout=5)
    assert answers == ["second"]


def test_a_raising_predicate_answers_500_naming_the_rule(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("never", when=lambda request: request.body["nope"]))
    with pytest.raises(openai.InternalServerError) as caught:
        _ask(llm_server, "q")
    assert "the rule Rule('never')" in caught.value.message
    assert "raised KeyError: 'nope'" in caught.value.message
    assert len(llm_server.errors) == 1


def test_env_points_sdks_built_from_the_environment_at_the_server(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anthropic

    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in llm_server.env().items():
        monkeypatch.setenv(name, value)
    llm_server.add_rule("from the environment")
    completion = openai.OpenAI(max_retries=0).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}]
    )
    assert completion.choices[0].message.content == "from the environment"
    message = anthropic.Anthropic(max_retries=0).messages.create(
        model="c", max_tokens=5, messages=[{"role": "user", "content": "x"}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "from the environment"
    assert len(llm_server.requests) == 2
    assert set(llm_server.env(api_keys=False)) == {"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"}

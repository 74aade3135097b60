"""Testing your own LLM application offline, with llmassert's local test server.

``support_app`` is ordinary application code using the official ``openai`` and ``anthropic``
SDKs. Each test points the app's client at the ``llm_server`` fixture (a real HTTP server on
127.0.0.1, reset for every test), scripts what the "model" answers or how it fails, then checks
what the app did with it - and what it sent.

Run:  cd examples && python -m pytest test_support_app.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from support_app import (
    HANDOFF,
    RetryPolicy,
    SummaryInterrupted,
    Triage,
    answer_order_question,
    summarize_ticket,
    triage_ticket,
)
from support_app.orders import SYSTEM_PROMPT as ORDERS_SYSTEM_PROMPT
from support_app.triage import SYSTEM_PROMPT as TRIAGE_SYSTEM_PROMPT

from llmassert import (
    assert_contains,
    assert_json_value,
    assert_matches_schema,
    assert_not_matches_schema,
    assert_not_pii,
)
from llmassert.testing import (
    ErrorReply,
    Fault,
    LLMServer,
    Reply,
    ReplyToolCall,
    Rule,
    ServerRequest,
    fingerprint,
    load_rules,
)

RULES = Path(__file__).parent / "rules" / "support.yaml"

# Keys are never checked by the test server; they only need to look like keys.
OPENAI_KEY = "sk-test-openai-key"
ANTHROPIC_KEY = "sk-ant-test-anthropic-key"

BILLING = {"category": "billing", "priority": "urgent", "summary": "Charged twice."}
DOUBLE_CHARGE = "I was charged twice for order A1234! Please refund one."


def no_wait() -> RetryPolicy:
    """The app's default retry policy, minus the sleeping between attempts."""
    return RetryPolicy(sleep=lambda seconds: None)


@pytest.fixture
def openai_app_client(llm_server: LLMServer) -> Iterator[openai.OpenAI]:
    """An OpenAI client pointed at the test server, as the app would build it."""
    with openai.OpenAI(base_url=llm_server.openai_base_url, api_key=OPENAI_KEY) as client:
        yield client


@pytest.fixture
def anthropic_app_client(llm_server: LLMServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=llm_server.anthropic_base_url, api_key=ANTHROPIC_KEY
    ) as client:
        yield client


# ---------------------------------------------------------------- triage: scripted answers


def test_triage_uses_the_models_classification(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.add_rule(Reply(json=BILLING), prompt_regex=r"(?i)charged twice")

    triage = triage_ticket(DOUBLE_CHARGE, client=openai_app_client)

    assert triage == Triage("billing", "urgent", "Charged twice.")
    assert triage.queue == "billing"


def test_triage_sends_its_prompt_its_schema_and_the_key_only_as_a_fingerprint(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.add_rule(Reply(json=BILLING))

    triage_ticket(DOUBLE_CHARGE, client=openai_app_client)

    [request] = llm_server.requests
    assert request.api == "chat.completions"
    assert request.model == "gpt-4o-mini"
    assert request.messages[0] == {"role": "system", "content": TRIAGE_SYSTEM_PROMPT}
    assert request.prompt == DOUBLE_CHARGE
    # The schema the app asks for accepts a good answer and rejects a made-up category.
    response_format = request.body["response_format"]
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert_matches_schema(json.dumps(BILLING), schema)
    assert_not_matches_schema(json.dumps({**BILLING, "category": "pizza"}), schema)
    # The key was sent, but the request log only keeps a fingerprint of it.
    assert request.headers["authorization"] == fingerprint(f"Bearer {OPENAI_KEY}")
    assert OPENAI_KEY not in repr(request)


def test_triage_keeps_contact_details_out_of_the_prompt(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.add_rule(Reply(json=BILLING))

    triage_ticket(
        "Charged twice! Call me on +1 415 555 0100 or mail jane.doe@example.com",
        client=openai_app_client,
    )

    [request] = llm_server.requests
    prompt = request.prompt
    assert_not_pii(prompt)
    assert_contains(prompt, "Call me on [phone] or mail [email]")


def test_triage_routes_a_refusal_to_a_human(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.add_rule(Reply(refusal="I can't help with account credentials."))

    triage = triage_ticket("What is my password?", client=openai_app_client)

    assert triage.fallback == "refused"
    assert triage.queue == "human"


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(text="Sure! This looks like a billing issue."), id="prose"),
        pytest.param(Reply(json={**BILLING, "category": "pizza"}), id="off-schema"),
        pytest.param(
            Reply(text='{"category": "billing", "prio', finish_reason="length"), id="truncated"
        ),
    ],
)
def test_triage_never_trusts_an_answer_that_breaks_the_schema(
    llm_server: LLMServer, openai_app_client: openai.OpenAI, reply: Reply
) -> None:
    llm_server.add_rule(reply)

    triage = triage_ticket(DOUBLE_CHARGE, client=openai_app_client)

    assert triage.fallback == "invalid_output"
    assert triage.queue == "human"


# ---------------------------------------------------------------- triage: injected faults


def test_triage_retries_a_429_after_the_wait_the_server_asked_for(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    # The first request gets a 429 with "retry-after: 2", the next one the answer.
    rate_limited = ErrorReply(status=429, retry_after=2)
    llm_server.add_rule(
        Rule(Reply(json=BILLING), fault=Fault(fail_times=1, fail_with=rate_limited))
    )
    waits: list[float] = []

    triage = triage_ticket(
        DOUBLE_CHARGE, client=openai_app_client, policy=RetryPolicy(sleep=waits.append)
    )

    assert triage.fallback is None
    assert waits == [2.0]  # honoured retry-after, without the test sleeping
    # Two requests, both first attempts as far as the SDK knows: the app's loop retried.
    assert [r.headers["x-stainless-retry-count"] for r in llm_server.requests] == ["0", "0"]


def test_triage_caps_its_waits_and_gives_up_when_the_rate_limit_stays(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.add_rule(ErrorReply(status=429, retry_after=3600))
    waits: list[float] = []
    policy = RetryPolicy(attempts=3, max_wait_s=5.0, sleep=waits.append)

    triage = triage_ticket(DOUBLE_CHARGE, client=openai_app_client, policy=policy)

    assert triage.fallback == "rate_limited"
    assert waits == [5.0, 5.0]
    assert llm_server.request_count == 3


def test_triage_gives_up_on_a_hung_model_after_its_timeout(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.fault = Fault(hang=True)  # every request: never answer
    policy = RetryPolicy(attempts=2, timeout_s=0.05, sleep=lambda seconds: None)

    started = time.monotonic()
    triage = triage_ticket(DOUBLE_CHARGE, client=openai_app_client, policy=policy)

    assert triage.fallback == "timeout"
    assert time.monotonic() - started < 1.0
    assert llm_server.request_count == 2


def test_triage_retries_a_garbled_response_body(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    # Rules are tried in order: the first answers once with truncated JSON, then the good one.
    llm_server.add_rule(Rule(fault=Fault(malformed_json=True), times=1))
    llm_server.add_rule(Reply(json=BILLING))

    triage = triage_ticket(DOUBLE_CHARGE, client=openai_app_client, policy=no_wait())

    assert triage.fallback is None
    assert llm_server.request_count == 2


def test_triage_falls_back_when_the_connection_keeps_resetting(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.fault = Fault(reset_connection=True)

    triage = triage_ticket(DOUBLE_CHARGE, client=openai_app_client, policy=no_wait())

    assert triage.fallback == "unreachable"
    assert llm_server.request_count == 3  # the policy's three attempts, no hidden SDK retries


def test_triage_does_not_hide_a_bad_api_key(
    llm_server: LLMServer, openai_app_client: openai.OpenAI
) -> None:
    llm_server.add_rule(ErrorReply(status=401))

    with pytest.raises(openai.AuthenticationError):
        triage_ticket(DOUBLE_CHARGE, client=openai_app_client, policy=no_wait())
    assert llm_server.request_count == 1  # configuration errors are not retried


def test_triage_finds_the_server_through_the_sdk_environment_variables(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # How to test an app that builds its own client: set the variables the SDK reads.
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    llm_server.add_rule(Reply(json=BILLING))

    triage = triage_ticket(DOUBLE_CHARGE)

    assert triage.category == "billing"
    assert llm_server.requests[0].headers["authorization"] == fingerprint(f"Bearer {OPENAI_KEY}")


# ---------------------------------------------------------------- orders: a tool loop


def test_order_question_round_trips_through_the_lookup_tool(
    llm_server: LLMServer, anthropic_app_client: anthropic.Anthropic
) -> None:
    # Turn 2 (after the tool result; tried first): answer from what the tool returned.
    def from_tool_result(request: ServerRequest) -> str:
        order = json.loads(request.messages[-1]["content"])
        return f"Good news: it has {order['status']}."

    llm_server.add_rule(from_tool_result, when=lambda req: req.messages[-1]["role"] == "tool")
    # Turn 1: call the tool.
    lookup = ReplyToolCall("lookup_order", {"order_id": "A1234"}, id="toolu_test_1")
    llm_server.add_rule(Reply(tool_calls=(lookup,)), prompt_regex=r"\bA\d{4}\b")

    answer = answer_order_question("Where is my order A1234?", client=anthropic_app_client)

    assert_contains(answer, "it has shipped")
    first, second = llm_server.requests
    assert first.body["system"] == ORDERS_SYSTEM_PROMPT
    assert [tool["name"] for tool in first.body["tools"]] == ["lookup_order"]
    # What the app sent back: the result for that tool call, as JSON.
    assert second.body["messages"][-1]["content"][0]["tool_use_id"] == "toolu_test_1"
    assert_json_value(second.messages[-1]["content"], "/status", equals="shipped")
    assert second.headers["authorization"] == fingerprint(f"Bearer {ANTHROPIC_KEY}")


def test_order_question_refusal_hands_over_to_a_human(
    llm_server: LLMServer, anthropic_app_client: anthropic.Anthropic
) -> None:
    llm_server.add_rule(Reply(refusal="I can't discuss other customers' orders."))

    answer = answer_order_question("Where is my neighbour's order?", client=anthropic_app_client)

    assert answer == HANDOFF


def test_order_question_backs_off_while_overloaded_then_hands_over(
    llm_server: LLMServer, anthropic_app_client: anthropic.Anthropic
) -> None:
    llm_server.add_rule(ErrorReply(status=529))  # Anthropic's "overloaded", no retry-after
    waits: list[float] = []
    policy = RetryPolicy(attempts=3, backoff_s=0.5, sleep=waits.append)

    answer = answer_order_question("Where is A1234?", client=anthropic_app_client, policy=policy)

    assert answer == HANDOFF
    assert waits == [0.5, 1.0]  # exponential backoff
    assert llm_server.request_count == 3


# ---------------------------------------------------------------- summaries: streaming


def test_summary_streams_pieces_as_they_arrive(
    llm_server: LLMServer, anthropic_app_client: anthropic.Anthropic
) -> None:
    llm_server.add_rule(
        "The customer was charged twice for order A1234 and wants a refund.",
        model="claude-haiku-4-5",
    )
    shown: list[str] = []

    summary = summarize_ticket(DOUBLE_CHARGE, client=anthropic_app_client, on_text=shown.append)

    assert len(shown) > 1
    assert "".join(shown) == summary
    assert_contains(summary, "wants a refund")
    assert llm_server.last_request is not None
    assert llm_server.last_request.stream


def test_summary_broken_off_mid_stream_keeps_what_was_shown(
    llm_server: LLMServer, anthropic_app_client: anthropic.Anthropic
) -> None:
    # Five events (message_start, block start, ping, two text deltas), then an error event.
    overloaded = Fault(stream_error_after=5, fail_with=ErrorReply(status=529))
    llm_server.add_rule(Rule("one two three four five six seven eight", fault=overloaded))
    shown: list[str] = []

    with pytest.raises(SummaryInterrupted) as interrupted:
        summarize_ticket(DOUBLE_CHARGE, client=anthropic_app_client, on_text=shown.append)

    assert shown
    assert interrupted.value.partial == "".join(shown)
    assert llm_server.request_count == 1  # text was on screen: not retried


# ---------------------------------------------------------------- a rules file, no fixture


def test_the_rules_file_scripts_the_whole_app() -> None:
    # Plain Python: the server as a context manager, scripted by the same YAML file that
    # `llmassert serve --rules rules/support.yaml` takes.
    with (
        LLMServer(load_rules(RULES)) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="test") as oai,
        anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="test") as claude,
    ):
        assert triage_ticket(DOUBLE_CHARGE, client=oai).category == "billing"
        assert triage_ticket("Reset my password", client=oai).queue == "human"
        assert_contains(answer_order_question("Where is A1234?", client=claude), "shipped")
        waits: list[float] = []
        summary = summarize_ticket(
            DOUBLE_CHARGE, client=claude, policy=RetryPolicy(sleep=waits.append)
        )
        assert_contains(summary, "refund")
        assert len(waits) == 1  # the scripted 529 was retried once

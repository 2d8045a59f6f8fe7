"""The OpenAI-compatible streaming client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest
from ai_server import FakeModel, refused_url

from luna_tui.ai.provider import ChatResult, ProviderConfig, complete, is_loopback, stream_chat
from luna_tui.errors import (
    AiBadResponse,
    AiKeyRejected,
    AiRateLimited,
    AiRemoteRefused,
    AiServerError,
    AiStreamCut,
    AiTimeout,
    AiUnreachable,
)

MESSAGES = [{"role": "system", "content": "x" * 40}, {"role": "user", "content": "hi"}]


@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


def config(url: str, **extra: object) -> ProviderConfig:
    return ProviderConfig(base_url=url, model="tiny", **extra)  # type: ignore[arg-type]


def test_streams_deltas_then_the_result_with_usage(model: FakeModel) -> None:
    events = list(stream_chat(config(model.base_url, api_key="sk-test"), MESSAGES,
                              temperature=0.3, max_tokens=50))
    assert events[:-1] == ["Hello", ", you ", "slept well."]
    result = events[-1]
    assert isinstance(result, ChatResult)
    assert (result.text, result.finish_reason) == ("Hello, you slept well.", "stop")
    assert (result.prompt_tokens, result.completion_tokens) == (321, 7)
    assert not result.usage_estimated
    body = model.last
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("tiny", 0.3, 50)
    assert body["messages"] == MESSAGES
    assert model.headers[-1]["Authorization"] == "Bearer sk-test"


def test_base_url_with_v1_is_not_doubled(model: FakeModel) -> None:
    assert complete(config(model.base_url + "/v1/"), MESSAGES).text == "Hello, you slept well."


def test_usage_is_estimated_and_flagged_when_the_server_sends_none(model: FakeModel) -> None:
    model.mode = "no_usage"
    result = complete(config(model.base_url), MESSAGES)
    assert result.usage_estimated
    assert result.completion_tokens == 6  # 22 characters / 4, rounded up
    assert result.prompt_tokens == 11  # 42 characters


def test_finish_reason_length_is_passed_on(model: FakeModel) -> None:
    model.finish_reason = "length"
    assert complete(config(model.base_url), MESSAGES).finish_reason == "length"


@pytest.mark.parametrize(("mode", "error", "words"), [
    ("401", AiKeyRejected, "refused the API key"),
    ("403", AiKeyRejected, "refused the API key"),
    ("429", AiRateLimited, "limiting requests"),
    ("500", AiServerError, "HTTP 500"),
    ("404", AiBadResponse, "Is the model name 'tiny' right?"),
    ("malformed", AiBadResponse, "not an OpenAI-compatible stream"),
    ("cut", AiStreamCut, "before its answer was finished"),
])
def test_each_failure_has_its_sentence(model: FakeModel, mode: str, error: type,
                                       words: str) -> None:
    model.mode = mode
    with pytest.raises(error) as raised:
        complete(config(model.base_url), MESSAGES)
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)


def test_refused_connection() -> None:
    with pytest.raises(AiUnreachable, match="nothing is listening there"):
        complete(config(refused_url()), MESSAGES)


def test_timeout(model: FakeModel) -> None:
    model.mode = "slow"
    with pytest.raises(AiTimeout, match="stopped answering for 0.5 seconds"):
        complete(config(model.base_url, timeout_seconds=0.5), MESSAGES)


def test_cancel_stops_between_chunks(model: FakeModel) -> None:
    model.mode = "hold"
    cancel = threading.Event()
    seen: list[str] = []

    def on_delta(text: str) -> None:
        seen.append(text)
        cancel.set()
        model.release.set()

    result = complete(config(model.base_url), MESSAGES, on_delta=on_delta, cancel=cancel)
    assert seen == ["Hello"]
    assert (result.text, result.finish_reason) == ("Hello", "cancelled")


def test_remote_endpoint_needs_the_opt_in() -> None:
    with pytest.raises(AiRemoteRefused, match="health data would leave this machine"):
        complete(config("https://api.example.com"), MESSAGES)


def test_remote_opt_in_lets_the_request_go() -> None:
    # Allowed, it is attempted: an unresolvable host fails as unreachable, not refused.
    with pytest.raises(AiUnreachable):
        complete(config("http://nonexistent.invalid:9", allow_remote=True,
                        timeout_seconds=2), MESSAGES)


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:11434", True), ("http://localhost:1234/v1", True),
    ("http://[::1]:8080", True), ("http://127.8.9.10", True),
    ("https://api.openai.com", False), ("http://192.168.1.20:11434", False),
    ("http://localhost.example.com", False), ("not a url", False),
])
def test_is_loopback(url: str, local: bool) -> None:
    assert is_loopback(url) is local


# -- the models an endpoint has ("test connection") ---------------------------------------


def test_lists_ollamas_models_from_api_tags_with_the_key(model: FakeModel) -> None:
    from luna_tui.ai.provider import list_models

    assert list_models(config(model.base_url, api_key="sk-test")) == [
        "llama3.2:latest", "mistral:7b"]
    assert [path for path, _ in model.gets] == ["/api/tags"]
    assert model.gets[0][1]["Authorization"] == "Bearer sk-test"


def test_lists_an_openai_compatible_endpoints_models_from_v1_models(model: FakeModel) -> None:
    from luna_tui.ai.provider import list_models

    model.list_mode = "openai"
    model.models = ["gpt-small", "gpt-big"]
    assert list_models(config(model.base_url + "/v1")) == ["gpt-big", "gpt-small"]
    assert [path for path, _ in model.gets] == ["/api/tags", "/v1/models"]


@pytest.mark.parametrize(("mode", "error", "words"), [
    ("401", AiKeyRejected, "refused the API key"),
    ("500", AiServerError, r"failed \(HTTP 500\)"),
    ("none", AiBadResponse, "no list of models"),
])
def test_listing_models_fails_with_a_sentence(model: FakeModel, mode, error, words) -> None:
    from luna_tui.ai.provider import list_models

    model.list_mode = mode
    with pytest.raises(error, match=words):
        list_models(config(model.base_url))


def test_listing_models_where_nothing_listens_says_so() -> None:
    from luna_tui.ai.provider import list_models

    with pytest.raises(AiUnreachable, match="nothing is listening"):
        list_models(config(refused_url()))


def test_listing_a_remote_endpoints_models_needs_the_opt_in_before_anything_is_sent(
        monkeypatch) -> None:
    import httpx

    from luna_tui.ai.provider import list_models

    def no_request(*args, **kwargs):
        raise AssertionError("a request was made")

    monkeypatch.setattr(httpx, "Client", no_request)
    with pytest.raises(AiRemoteRefused, match="health data would leave this machine"):
        list_models(config("https://api.example.com", api_key="sk-secret"))

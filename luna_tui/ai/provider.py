"""An OpenAI-compatible chat client that streams: `POST {base_url}/v1/chat/completions`.

Works with Ollama, llama.cpp's server, LM Studio and OpenAI. The answer arrives as
server-sent events (`data: {...}` lines, then `data: [DONE]`); `stream_chat` yields each
piece of text as it arrives and, last, a `ChatResult` with the finish reason and the
token usage (asked for with `stream_options.include_usage`; estimated at four
characters a token, and flagged so, when the server sends none).

Every way it can fail is a typed `AiError` with one sentence. A `threading.Event`
passed as `cancel` stops the generation between two chunks ("stop generation").
httpx is imported only when a request is made.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

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

CHARS_PER_TOKEN = 4
CANCELLED = "cancelled"  # the finish reason of a generation the person stopped


@dataclass(frozen=True)
class ProviderConfig:
    base_url: str
    model: str
    api_key: str = ""
    allow_remote: bool = False
    timeout_seconds: float = 120.0  # connect, and between two chunks of the answer


@dataclass(frozen=True)
class ChatResult:
    text: str
    finish_reason: str  # stop | length | cancelled | … as the server says
    prompt_tokens: int
    completion_tokens: int
    usage_estimated: bool  # True: the server sent no usage; counted as len(text) / 4
    model: str


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def is_loopback(base_url: str) -> bool:
    """Does this URL point at this machine (localhost, 127.0.0.0/8, ::1)?"""
    host = (urlsplit(base_url.strip()).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def chat_url(base_url: str) -> str:
    base = base_url.strip().rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if base.endswith("/v1"):
        return base + "/chat/completions"
    return base + "/v1/chat/completions"


def check_endpoint(config: ProviderConfig) -> None:
    """Refuse a URL that isn't http(s), and a remote one without the opt-in."""
    parts = urlsplit(config.base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AiBadResponse(
            f"'{config.base_url}' is not a web address for the AI model; set one like "
            "http://127.0.0.1:11434 with `luna ai config --base-url`.")
    if not config.allow_remote and not is_loopback(config.base_url):
        raise AiRemoteRefused(
            f"The AI endpoint {parts.hostname} is not on this machine, so your health data "
            "would leave this machine; Luna only sends it there after you allow it with "
            "`luna ai config --allow-remote`.")


def stream_chat(config: ProviderConfig, messages: Sequence[dict[str, str]], *,
                temperature: float | None = None, max_tokens: int | None = None,
                cancel: threading.Event | None = None) -> Iterator[str | ChatResult]:
    """Yield the answer's text pieces as they arrive, then one `ChatResult`."""
    import httpx

    check_endpoint(config)
    body: dict[str, object] = {
        "model": config.model,
        "messages": list(messages),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    headers = {"Accept": "text/event-stream"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    where = _where(config.base_url)
    timeout = httpx.Timeout(config.timeout_seconds)
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client, client.stream(
                "POST", chat_url(config.base_url), json=body, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                raise _status_error(response.status_code, response.text, config)
            yield from _events(response.iter_lines(), config, messages, cancel)
    except httpx.ConnectTimeout:
        raise AiUnreachable(
            f"Luna could not connect to the AI model at {where} within "
            f"{config.timeout_seconds:g} seconds; check that it is running.") from None
    except httpx.TimeoutException:
        raise AiTimeout(
            f"The AI model at {where} stopped answering for {config.timeout_seconds:g} "
            "seconds; try again, or raise ai.timeout_seconds for a slow model.") from None
    except httpx.ConnectError:
        raise AiUnreachable(
            f"Luna can't reach the AI model at {where}: nothing is listening there. Start "
            "it (for example `ollama serve`) or set another with `luna ai config "
            "--base-url`.") from None
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise AiStreamCut(
            f"The connection to the AI model at {where} broke off in the middle of the "
            "answer; your message is kept, so send it again.") from None
    except httpx.HTTPError as exc:
        raise AiUnreachable(
            f"Talking to the AI model at {where} failed ({type(exc).__name__}).") from None


def list_models(config: ProviderConfig) -> list[str]:
    """The names of the models the endpoint has, sorted: Ollama's `GET /api/tags`, else an
    OpenAI-compatible `GET /v1/models`. A remote endpoint without the opt-in is refused
    before anything (the API key included) is sent, as a chat is."""
    import httpx

    check_endpoint(config)
    headers = {"Accept": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    where = _where(config.base_url)
    root = config.base_url.strip().rstrip("/").removesuffix("/chat/completions")
    root = root.removesuffix("/v1")
    try:
        with httpx.Client(timeout=httpx.Timeout(config.timeout_seconds),
                          trust_env=False) as client:
            for path, read in (("/api/tags", _ollama_names), ("/v1/models", _openai_names)):
                response = client.get(root + path, headers=headers)
                if response.status_code in (401, 403, 429) or response.status_code >= 500:
                    raise _status_error(response.status_code, response.text, config)
                names = read(_json_or_none(response.text)) if response.is_success else None
                if names is not None:
                    return sorted(names)
    except httpx.TimeoutException:
        raise AiUnreachable(
            f"The AI endpoint at {where} did not answer within {config.timeout_seconds:g} "
            "seconds; check that it is running.") from None
    except httpx.ConnectError:
        raise AiUnreachable(
            f"Luna can't reach the AI endpoint at {where}: nothing is listening there. Start "
            "it (for example `ollama serve`) or check the address.") from None
    except httpx.HTTPError as exc:
        raise AiUnreachable(
            f"Talking to the AI endpoint at {where} failed ({type(exc).__name__}).") from None
    raise AiBadResponse(
        f"The AI endpoint at {where} answered, but with no list of models (neither Ollama's "
        "/api/tags nor an OpenAI-compatible /v1/models); check the address.")


def _ollama_names(payload: object) -> list[str] | None:
    models = payload.get("models") if isinstance(payload, dict) else None
    if not isinstance(models, list):
        return None
    return [str(m["name"]) for m in models if isinstance(m, dict) and m.get("name")]


def _openai_names(payload: object) -> list[str] | None:
    models = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(models, list):
        return None
    return [str(m["id"]) for m in models if isinstance(m, dict) and m.get("id")]


def complete(config: ProviderConfig, messages: Sequence[dict[str, str]], *,
             on_delta: Callable[[str], None] | None = None,
             temperature: float | None = None, max_tokens: int | None = None,
             cancel: threading.Event | None = None) -> ChatResult:
    """Run `stream_chat` to its end, handing each piece to `on_delta`."""
    for event in stream_chat(config, messages, temperature=temperature,
                             max_tokens=max_tokens, cancel=cancel):
        if isinstance(event, ChatResult):
            return event
        if on_delta is not None:
            on_delta(event)
    raise AiStreamCut("The AI model's answer ended without a result; send it again.")


def _events(lines: Iterator[str], config: ProviderConfig, messages: Sequence[dict[str, str]],
            cancel: threading.Event | None) -> Iterator[str | ChatResult]:
    pieces: list[str] = []
    finish_reason: str | None = None
    usage: dict[str, object] | None = None
    done = False
    where = _where(config.base_url)
    for raw in lines:
        if cancel is not None and cancel.is_set():
            finish_reason = CANCELLED
            break
        line = raw.strip()
        if not line or line.startswith(":") or not line.startswith("data:"):
            continue  # blank separators, comments, `event:` and `id:` fields
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            raise AiBadResponse(
                f"The AI endpoint at {where} sent something that is not an OpenAI-compatible "
                "stream; check the base URL points at one.") from None
        if not isinstance(chunk, dict):
            raise AiBadResponse(
                f"The AI endpoint at {where} sent an answer Luna can't read; check the "
                "base URL points at an OpenAI-compatible endpoint.")
        if isinstance(chunk.get("error"), dict | str):
            raise AiServerError(
                f"The AI model at {where} stopped with an error: {_error_text(chunk)}.")
        if isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str) and text:
                pieces.append(text)
                yield text
            if choice.get("finish_reason"):
                finish_reason = str(choice["finish_reason"])
    if finish_reason is None and not done:
        raise AiStreamCut(
            f"The AI model at {where} stopped sending before its answer was finished; your "
            "message is kept, so send it again.")
    text = "".join(pieces)
    prompt_tokens = _whole(usage, "prompt_tokens")
    completion_tokens = _whole(usage, "completion_tokens")
    estimated = prompt_tokens is None or completion_tokens is None
    if prompt_tokens is None:
        prompt_tokens = estimate_tokens("".join(m.get("content", "") for m in messages))
    if completion_tokens is None:
        completion_tokens = estimate_tokens(text)
    yield ChatResult(text, finish_reason or "stop", prompt_tokens, completion_tokens,
                     estimated, config.model)


def _whole(usage: dict[str, object] | None, name: str) -> int | None:
    value = (usage or {}).get(name)
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _status_error(status: int, body: str, config: ProviderConfig) -> Exception:
    where = _where(config.base_url)
    if status in (401, 403):
        return AiKeyRejected(
            f"The AI endpoint at {where} refused the API key (HTTP {status}); set the right "
            "one with `luna ai config --key`.")
    if status == 429:
        return AiRateLimited(
            f"The AI endpoint at {where} is limiting requests (HTTP 429: too many, or the "
            "account's quota is used up); wait a moment and try again.")
    if status >= 500:
        return AiServerError(
            f"The AI model server at {where} failed (HTTP {status}); try again, or look at "
            "its log.")
    detail = _error_text(_json_or_none(body)) if body else ""
    hint = (f" Is the model name '{config.model}' right?" if status == 404 else "")
    return AiBadResponse(
        f"The AI endpoint at {where} turned the request down (HTTP {status}"
        f"{': ' + detail if detail else ''}).{hint}")


def _json_or_none(body: str) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _error_text(payload: object) -> str:
    """The server's own error message, short and on one line."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    text = " ".join(str(error or "").split())
    return text[:200]


def _where(base_url: str) -> str:
    """scheme://host:port only: no path, and never credentials written into the URL."""
    parts = urlsplit(base_url.strip())
    host = parts.hostname or base_url
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"

"""A real OpenAI-compatible server for the AI tests: http.server on 127.0.0.1, a random
port, speaking server-sent events. It records every request body, and `mode` chooses
how it answers (a normal stream, an error status, a malformed or cut-off stream...)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeModel:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.mode = "ok"
        self.reply = ["Hello", ", you ", "slept well."]
        self.usage = {"prompt_tokens": 321, "completion_tokens": 7, "total_tokens": 328}
        self.finish_reason = "stop"
        self.delay = 0.0  # seconds between two chunks
        self.release = threading.Event()  # for "hold": the server waits for this
        # GET: which list of models it has ("ollama": /api/tags, "openai": /v1/models
        # only, or a status code for both), and the paths and headers asked.
        self.models = ["llama3.2:latest", "mistral:7b"]
        self.list_mode = "ollama"
        self.gets: list[tuple[str, dict[str, str]]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def last(self) -> dict:
        return self.requests[-1]

    def start(self) -> FakeModel:
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                model.requests.append(body)
                model.headers.append(dict(self.headers))
                model.answer(self, body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                model.gets.append((self.path, dict(self.headers)))
                model.answer_list(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False  # a "slow" answer must not hold up the test's end

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # the client hanging up on purpose (cancel, time-out) is expected

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- answers -------------------------------------------------------------------------

    def answer_list(self, handler: BaseHTTPRequestHandler) -> None:
        mode, path = self.list_mode, handler.path
        if mode == "ollama" and path == "/api/tags":
            status, payload = 200, {"models": [{"name": n, "size": 1} for n in self.models]}
        elif mode == "openai" and path == "/v1/models":
            status, payload = 200, {"object": "list", "data": [
                {"id": n, "object": "model"} for n in self.models]}
        elif mode.isdigit():
            status, payload = int(mode), {"error": {"message": f"fake {mode}"}}
        else:
            status, payload = 404, {"error": "not found"}
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def answer(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        mode = self.mode
        if mode in ("401", "403", "429", "500", "503", "404"):
            payload = json.dumps({"error": {"message": f"fake {mode}"}}).encode()
            handler.send_response(int(mode))
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()

        def send(data: str) -> None:
            handler.wfile.write(f"data: {data}\n\n".encode())
            handler.wfile.flush()
            if self.delay:
                time.sleep(self.delay)

        if mode == "slow":
            time.sleep(5)  # longer than the test's time-out; nothing sent meanwhile
            return
        if mode == "malformed":
            send('{"choices": [{"delta": {"content": "Hi"}}]}')
            send("this is not json")
            return
        handler.wfile.write(b": a comment line, as some servers send\n\n")
        first = {"id": "c1", "object": "chat.completion.chunk", "model": body.get("model"),
                 "choices": [{"index": 0, "delta": {"role": "assistant"},
                              "finish_reason": None}]}
        send(json.dumps(first))
        for i, piece in enumerate(self.reply):
            if mode == "hold" and i == 1:
                self.release.wait(5)
            send(json.dumps({"choices": [{"index": 0, "delta": {"content": piece},
                                          "finish_reason": None}]}))
        if mode == "cut":
            return  # the connection closes: no finish reason, no [DONE]
        send(json.dumps({"choices": [{"index": 0, "delta": {},
                                      "finish_reason": self.finish_reason}]}))
        if mode != "no_usage":
            send(json.dumps({"choices": [], "usage": self.usage}))
        send("[DONE]")


def refused_url() -> str:
    """A loopback address where nothing listens."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"

"""The echo app the launcher's integration tests run as a `custom` app
(crates/japps-testkit/apps/echo_app.py), checked on its own: HTTP endpoints,
WebSocket echo over raw sockets, and the start-up and failure modes."""

import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ECHO_APP = Path(__file__).resolve().parents[2] / "crates/japps-testkit/apps/echo_app.py"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EchoApp:
    def __init__(self, *flags, root_path="/user/alice/echo"):
        self.port = free_port()
        self.lines = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ECHO_APP),
                *("--port", str(self.port), "--root-path", root_path),
                *flags,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self):
        return "\n".join(self.lines)

    def wait_for(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if self.proc.poll() is not None and text not in self.output:
                time.sleep(0.1)  # the last lines may still be on their way
                if text in self.output:
                    return
                raise AssertionError(f"exited {self.proc.returncode}: {self.output}")
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} within {timeout} s: {self.output}")

    def request(self, method, path, body=None, headers=None, **kwargs):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {}, **kwargs)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def start_echo():
    apps = []

    def start(*flags, wait=True, **kwargs):
        app = EchoApp(*flags, **kwargs)
        apps.append(app)
        if wait:
            app.wait_for("echo app listening on")
        return app

    yield start
    for app in apps:
        app.stop()


@pytest.fixture
def echo(start_echo):
    return start_echo()


# --- HTTP ----------------------------------------------------------------------


def test_front_page_names_the_app_and_root_path(echo):
    status, headers, body = echo.get("/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"echo app" in body
    assert b"/user/alice/echo" in body
    assert f"listening on http://127.0.0.1:{echo.port}" in echo.output


def test_ready_and_unknown_paths(echo):
    assert echo.get("/ready")[0] == 200
    assert echo.get("/nope")[0] == 404
    # the prefix is the launcher's business: the app serves from /
    assert echo.get("/user/alice/echo/ready")[0] == 404


def test_headers_are_reported(echo):
    status, _, body = echo.get(
        "/headers?x=1",
        headers={"X-Forwarded-Prefix": "/user/alice/echo", "Cookie": "a=1", "Host": "hub.test"},
    )
    assert status == 200
    seen = json.loads(body)
    assert seen["path"] == "/headers"
    assert seen["query"] == "x=1"
    assert seen["method"] == "GET"
    assert seen["headers"]["X-Forwarded-Prefix"] == "/user/alice/echo"
    assert seen["headers"]["Cookie"] == "a=1"
    assert seen["headers"]["Host"] == "hub.test"


def test_requests_are_logged(echo):
    echo.get("/headers")
    echo.wait_for("GET /headers HTTP/1.1")


@pytest.mark.parametrize("size", [0, 1, 250, 251, 252, 65511, 65512, 300_000])
def test_big_is_a_deterministic_pattern(echo, size):
    status, headers, body = echo.get(f"/big?bytes={size}")
    assert status == 200
    assert headers["Content-Length"] == str(size)
    assert body == bytes(i % 251 for i in range(size))


@pytest.mark.parametrize("query", ["", "?bytes=x", "?bytes=-1"])
def test_big_needs_a_size(echo, query):
    assert echo.get(f"/big{query}")[0] == 400


def test_slow_sends_two_chunks_a_second_apart(echo):
    with socket.create_connection(("127.0.0.1", echo.port), timeout=10) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"first chunk" not in received:
            received += s.recv(4096)
        first = time.monotonic()
        assert b"second chunk" not in received
        while not received.endswith(b"0\r\n\r\n"):
            received += s.recv(4096)
        assert time.monotonic() - first >= 0.9
    assert b"Transfer-Encoding: chunked" in received
    assert b"second chunk" in received


def test_upload_with_content_length(echo):
    data = os.urandom(300_000)
    status, _, body = echo.request("POST", "/upload", body=data)
    assert status == 200
    assert json.loads(body) == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_upload_chunked(echo):
    parts = [b"a" * 1000, b"b" * 70_000, b"c"]
    status, _, body = echo.request("POST", "/upload", body=iter(parts), encode_chunked=True)
    data = b"".join(parts)
    assert status == 200
    assert json.loads(body) == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_empty_upload(echo):
    status, _, body = echo.request("POST", "/upload", body=b"")
    assert status == 200
    assert json.loads(body) == {"bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()}


def test_redirect(echo):
    status, headers, _ = echo.get("/redirect")
    assert status == 302
    assert headers["Location"] == "/target"
    assert echo.get("/target")[0] == 200


def test_keep_alive_serves_several_requests(echo):
    conn = http.client.HTTPConnection("127.0.0.1", echo.port, timeout=10)
    try:
        for path in ("/ready", "/big?bytes=10", "/headers", "/redirect"):
            conn.request("GET", path)
            conn.getresponse().read()
    finally:
        conn.close()


# --- start-up and failure modes ------------------------------------------------


def test_startup_delay_answers_503_then_200(start_echo):
    app = start_echo("--startup-delay", "1.5")
    started = time.monotonic()
    assert app.get("/ready")[0] == 503
    assert app.get("/")[0] == 503
    while app.get("/ready")[0] != 200:
        assert time.monotonic() - started < 10
        time.sleep(0.1)
    assert time.monotonic() - started >= 1.0


def test_never_ready_never_listens(start_echo):
    app = start_echo("--never-ready", wait=False)
    app.wait_for("not listening yet")
    time.sleep(1.5)
    assert app.output.count("not listening yet") >= 2
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", app.port), timeout=1).close()
    assert app.proc.poll() is None


def test_crash_after(start_echo):
    app = start_echo("--crash-after", "1")
    assert app.get("/ready")[0] == 200
    assert app.proc.wait(10) == 3
    app.wait_for("crashing on purpose")


def test_stops_on_sigterm(echo):
    echo.proc.terminate()
    assert echo.proc.wait(10) == -signal.SIGTERM


# --- WebSocket -------------------------------------------------------------------


class WebSocket:
    """A minimal RFC 6455 client over a raw socket."""

    def __init__(self, port, path="/ws", key=None):
        self.key = key or base64.b64encode(os.urandom(16)).decode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during the handshake"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}

    def send(self, opcode, payload, fin=True, mask=True):
        n = len(payload)
        first = (0x80 if fin else 0) | opcode
        bit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", first, bit | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", first, bit | 126, n)
        else:
            head = struct.pack("!BBQ", first, bit | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        self.sock.sendall(head + payload)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self):
        """(fin, opcode, payload, length field size) of the next frame."""
        b1, b2 = self._read(2)
        assert not b2 & 0x80, "server frames must not be masked"
        n = b2 & 0x7F
        size = 7
        if n == 126:
            (n,) = struct.unpack("!H", self._read(2))
            size = 16
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read(8))
            size = 64
        return bool(b1 & 0x80), b1 & 0x0F, self._read(n), size

    def close(self):
        self.sock.close()


@pytest.fixture
def ws(echo):
    socket_ = WebSocket(echo.port)
    yield socket_
    socket_.close()


def test_websocket_handshake_accept_key(echo):
    # the example of RFC 6455 section 1.3
    client = WebSocket(echo.port, key="dGhlIHNhbXBsZSBub25jZQ==")
    try:
        assert client.status == 101
        assert client.headers["upgrade"].lower() == "websocket"
        assert client.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    finally:
        client.close()
    echo.wait_for("websocket open")


def test_websocket_needs_an_upgrade(echo):
    assert echo.get("/ws")[0] == 400


def test_text_and_binary_echo(ws):
    ws.send(0x1, "héllo".encode())
    assert ws.receive()[:3] == (True, 0x1, "héllo".encode())
    ws.send(0x2, b"\x00\x01\xff")
    assert ws.receive()[:3] == (True, 0x2, b"\x00\x01\xff")


@pytest.mark.parametrize(
    "length, size", [(0, 7), (125, 7), (126, 16), (65535, 16), (65536, 64), (200_000, 64)]
)
def test_payload_lengths(ws, length, size):
    payload = os.urandom(length)
    ws.send(0x2, payload)
    fin, opcode, echoed, field = ws.receive()
    assert (fin, opcode, echoed, field) == (True, 0x2, payload, size)


def test_fragmented_message_comes_back_whole(ws):
    ws.send(0x1, b"frag", fin=False)
    ws.send(0x9, b"in between")  # control frames may come between fragments
    ws.send(0x0, b"men", fin=False)
    ws.send(0x0, b"ted")
    assert ws.receive()[:3] == (True, 0xA, b"in between")
    assert ws.receive()[:3] == (True, 0x1, b"fragmented")


def test_ping_gets_pong(ws):
    ws.send(0x9, b"are you there")
    assert ws.receive()[:3] == (True, 0xA, b"are you there")


def test_close_handshake(ws, echo):
    ws.send(0x8, struct.pack("!H", 1000) + b"bye")
    _, opcode, payload, _ = ws.receive()
    assert (opcode, payload) == (0x8, struct.pack("!H", 1000))
    assert ws.sock.recv(10) == b""  # then the server hangs up
    echo.wait_for("websocket closed")


def test_unmasked_client_frame_is_a_protocol_error(ws):
    ws.send(0x1, b"no mask", mask=False)
    _, opcode, payload, _ = ws.receive()
    assert opcode == 0x8
    assert struct.unpack("!H", payload[:2])[0] == 1002


def test_invalid_utf8_text_is_refused(ws):
    ws.send(0x1, b"\xff\xfe")
    _, opcode, payload, _ = ws.receive()
    assert opcode == 0x8
    assert struct.unpack("!H", payload[:2])[0] == 1007

"""The echo app: a stdlib-only HTTP and WebSocket server for the launcher tests.

Run as a `custom` app behind `japps launch`:

    python echo_app.py --port {port} --root-path {root_path}
        [--never-ready] [--crash-after SECONDS] [--startup-delay SECONDS]

It listens on 127.0.0.1 and expects the launcher to strip the server's prefix:
paths start at `/` (`--root-path` is only shown on the front page).

    GET  /                 200 HTML naming the echo app and its root path
    GET  /ready            200
    GET  /headers          200 JSON {method, path, query, client, headers}
    GET  /big?bytes=N      N bytes: byte i is i % 251
    GET  /slow             chunked: "first chunk\\n", 1 s pause, "second chunk\\n"
    POST /upload           200 JSON {"bytes": n, "sha256": hex} of the body
                           (Content-Length or chunked)
    GET  /redirect         302 to /target
    GET  /target           200
    GET  /ws               WebSocket echo (RFC 6455): text and binary messages
                           come back as sent (fragmented ones as one message),
                           ping gets pong, close gets close; client frames
                           must be masked

--startup-delay S: listens at once, but answers every request with 503 for S
seconds (the launcher's readiness check sees "not ready").
--never-ready: never listens; prints "not listening yet" every second.
--crash-after S: prints "crashing on purpose" after S seconds and exits with
status 3.

Every request is logged to stdout (flushed), and "echo app listening on ..."
when it starts.
"""

import argparse
import base64
import hashlib
import html
import json
import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_MAX_MESSAGE = 64 * 1024 * 1024
BIG_MAX = 1 << 34
UPLOAD_BLOCK = 64 * 1024

# One period of /big's pattern, repeated to a block that keeps the period.
_PERIOD = bytes(i % 251 for i in range(251))
_BIG_BLOCK = _PERIOD * 261

_print_lock = threading.Lock()


def say(message):
    with _print_lock:
        print(message, flush=True)


class WebSocketClosed(Exception):
    pass


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EchoApp/1"

    # Set on the class by main().
    root_path = "/"
    ready_at = 0.0

    # --- dispatch ------------------------------------------------------------

    def do_GET(self):
        if self._starting():
            return
        url = urlsplit(self.path)
        route = {
            "/": self._index,
            "/ready": self._ready,
            "/headers": self._headers,
            "/big": self._big,
            "/slow": self._slow,
            "/redirect": self._redirect,
            "/target": self._target,
            "/ws": self._websocket,
        }.get(url.path)
        if route is None:
            self._send(404, b"not found\n", "text/plain")
        else:
            route(url)

    def do_POST(self):
        if self._starting():
            return
        url = urlsplit(self.path)
        if url.path == "/upload":
            self._upload()
        elif url.path == "/headers":
            self._drain_body()
            self._headers(url)
        else:
            self.close_connection = True
            self._send(404, b"not found\n", "text/plain")

    def log_message(self, format, *args):
        say(f"echo app: {self.address_string()} {format % args}")

    # --- endpoints -----------------------------------------------------------

    def _starting(self):
        left = self.ready_at - time.monotonic()
        if left <= 0:
            return False
        self.close_connection = True
        self._send(503, f"echo app starting, ready in {left:.1f} s\n".encode(), "text/plain")
        return True

    def _index(self, url):
        root = html.escape(self.root_path)
        body = (
            "<!doctype html>\n<html><head><title>echo app</title></head>\n"
            f"<body><h1>echo app</h1><p>root path: <code>{root}</code></p></body></html>\n"
        )
        self._send(200, body.encode(), "text/html; charset=utf-8")

    def _ready(self, url):
        self._send(200, b"ready\n", "text/plain")

    def _target(self, url):
        self._send(200, b"target\n", "text/plain")

    def _headers(self, url):
        headers = {}
        for name, value in self.headers.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        body = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "client": self.client_address[0],
            "headers": headers,
        }
        self._send(200, json.dumps(body).encode(), "application/json")

    def _big(self, url):
        values = parse_qs(url.query).get("bytes", [])
        try:
            size = int(values[0])
        except (IndexError, ValueError):
            size = -1
        if not 0 <= size <= BIG_MAX:
            self._send(400, b"/big needs ?bytes=N\n", "text/plain")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        left = size
        while left:
            n = min(left, len(_BIG_BLOCK))
            self.wfile.write(_BIG_BLOCK if n == len(_BIG_BLOCK) else _BIG_BLOCK[:n])
            left -= n

    def _slow(self, url):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._chunk(b"first chunk\n")
        time.sleep(1)
        self._chunk(b"second chunk\n")
        self._chunk(b"")

    def _redirect(self, url):
        self.send_response(302)
        self.send_header("Location", "/target")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _upload(self):
        digest = hashlib.sha256()
        count = 0
        for block in self._body_blocks():
            digest.update(block)
            count += len(block)
        body = json.dumps({"bytes": count, "sha256": digest.hexdigest()})
        self._send(200, body.encode(), "application/json")

    # --- HTTP helpers ----------------------------------------------------------

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, data):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _body_blocks(self):
        """The request body in blocks: Content-Length or chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("body ended early")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers, up to the empty line
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield from self._read_blocks(size)
                self.rfile.readline(1024)
        else:
            yield from self._read_blocks(int(self.headers.get("Content-Length") or 0))

    def _read_blocks(self, size):
        while size:
            block = self.rfile.read(min(size, UPLOAD_BLOCK))
            if not block:
                raise ConnectionError("body ended early")
            size -= len(block)
            yield block

    def _drain_body(self):
        for _ in self._body_blocks():
            pass

    # --- WebSocket -------------------------------------------------------------

    def _websocket(self, url):
        key = self.headers.get("Sec-WebSocket-Key", "")
        upgrade = self.headers.get("Upgrade", "").lower() == "websocket"
        connection = "upgrade" in self.headers.get("Connection", "").lower()
        if not (upgrade and connection and key):
            self._send(400, b"/ws needs a WebSocket upgrade\n", "text/plain")
            return
        if self.headers.get("Sec-WebSocket-Version") != "13":
            self.send_response(426)
            self.send_header("Sec-WebSocket-Version", "13")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        say("echo app: websocket open")
        try:
            self._echo_frames()
        except (WebSocketClosed, ConnectionError, OSError):
            pass
        say("echo app: websocket closed")

    def _echo_frames(self):
        message_opcode, parts, size = None, [], 0
        while True:
            fin, opcode, payload = self._read_frame()
            if opcode == 0x8:  # close: answer with the same code, then hang up
                self._send_frame(0x8, payload[:2])
                return
            if opcode == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:  # pong
                continue
            if opcode in (0x1, 0x2):
                if message_opcode is not None:
                    return self._close(1002, "new message inside a fragmented one")
                message_opcode, parts, size = opcode, [], 0
            elif opcode != 0x0 or message_opcode is None:
                return self._close(1002, f"unexpected opcode {opcode}")
            parts.append(payload)
            size += len(payload)
            if size > WS_MAX_MESSAGE:
                return self._close(1009, "message too big")
            if fin:
                message = b"".join(parts)
                if message_opcode == 0x1:
                    try:
                        message.decode("utf-8")
                    except UnicodeDecodeError:
                        return self._close(1007, "text is not UTF-8")
                self._send_frame(message_opcode, message)
                message_opcode, parts, size = None, [], 0

    def _read_frame(self):
        head = self._read_exact(2)
        fin = bool(head[0] & 0x80)
        opcode = head[0] & 0x0F
        length = head[1] & 0x7F
        if not head[1] & 0x80:
            self._close(1002, "client frames must be masked")
            raise WebSocketClosed
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
        if length > WS_MAX_MESSAGE:
            self._close(1009, "frame too big")
            raise WebSocketClosed
        mask = self._read_exact(4)
        data = self._read_exact(length)
        # XOR with the repeated mask, all at once.
        key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
        payload = (int.from_bytes(data, "big") ^ key).to_bytes(length, "big")
        return fin, opcode, payload

    def _read_exact(self, n):
        data = self.rfile.read(n)
        if len(data) < n:
            raise WebSocketClosed
        return data

    def _send_frame(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def _close(self, code, reason):
        say(f"echo app: websocket error {code}: {reason}")
        self._send_frame(0x8, struct.pack("!H", code) + reason.encode()[:120])


def crash_after(seconds):
    time.sleep(seconds)
    say("echo app: crashing on purpose")
    os._exit(3)


def main(argv=None):
    parser = argparse.ArgumentParser(description="HTTP and WebSocket echo app for tests")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root-path", default="/")
    parser.add_argument("--never-ready", action="store_true")
    parser.add_argument("--crash-after", type=float, metavar="SECONDS")
    parser.add_argument("--startup-delay", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args(argv)

    if args.crash_after is not None:
        threading.Thread(target=crash_after, args=(args.crash_after,), daemon=True).start()

    try:
        if args.never_ready:
            while True:
                say("echo app: not listening yet (--never-ready)")
                time.sleep(1)

        EchoHandler.root_path = args.root_path
        EchoHandler.ready_at = time.monotonic() + args.startup_delay
        server = ThreadingHTTPServer(("127.0.0.1", args.port), EchoHandler)
        server.daemon_threads = True
        host, port = server.server_address[:2]
        say(f"echo app listening on http://{host}:{port} (root path {args.root_path})")
        if args.startup_delay > 0:
            say(f"echo app: answering 503 for {args.startup_delay:g} s")
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

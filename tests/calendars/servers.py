"""Real servers on 127.0.0.1 for the calendar tests: Radicale (CalDAV, a test user with a password, storage
in a temporary folder) and a small HTTP server that serves feeds with ETag / Last-Modified and counts what
it was asked."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tests.local_http import free_port  # noqa: F401 - imported from here by other tests too

USER, PASSWORD = "eve", "app-password-1"
CLIENT_USER, CLIENT_PASSWORD = "ana", "app-password-2"




def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"radicale stopped: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("radicale did not start in 20 s")


@dataclass
class Radicale:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_radicale(folder: Path) -> Radicale:
    """Radicale's defaults bind localhost:5232 and deny every login; here: a free loopback port, htpasswd
    users in plain text, storage and its lock in the temporary folder, no hooks, quiet logs."""
    port = free_port()
    (folder / "users").write_text(f"{USER}:{PASSWORD}\n{CLIENT_USER}:{CLIENT_PASSWORD}\n")
    config = folder / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {folder / 'users'}\n"
        "htpasswd_encryption = plain\n"
        "delay = 0.05\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {folder / 'collections'}\n"
        "[logging]\n"
        "level = warning\n"
    )
    log = folder / "radicale.log"
    process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    _wait_for(port, process, log)
    return Radicale(f"http://127.0.0.1:{port}", process)


@dataclass
class Feed:
    body: bytes = b""
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = "text/calendar; charset=utf-8"


@dataclass
class FeedServer:
    """feeds[path] is what GET path answers; `requests` records (path, If-None-Match, If-Modified-Since)."""

    feeds: dict[str, Feed] = field(default_factory=dict)
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> FeedServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
                owner.requests.append((self.path, inm, ims))
                feed = owner.feeds.get(self.path)
                if feed is None:
                    self._send(404, b"no feed here")
                    return
                fresh = (feed.etag is not None and inm == feed.etag) or (
                    inm is None and feed.last_modified is not None and ims == feed.last_modified)
                if feed.status == 200 and fresh:
                    self._send(304, b"", feed)
                    return
                self._send(feed.status, feed.body, feed)

            def _send(self, status: int, body: bytes, feed: Feed | None = None) -> None:
                self.send_response(status)
                if feed is not None:
                    self.send_header("Content-Type", feed.content_type)
                    if feed.etag:
                        self.send_header("ETag", feed.etag)
                    if feed.last_modified:
                        self.send_header("Last-Modified", feed.last_modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def vcalendar(*events: str, extra: str = "") -> bytes:
    body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//Calendar//EN\r\n" + extra
    for event in events:
        body += event
    return (body + "END:VCALENDAR\r\n").encode()


def vevent(uid: str, start: str, end: str, *lines: str) -> str:
    """start/end as iCalendar property tails: ':20300305T100000Z' or ';TZID=Europe/London:20300305T100000'."""
    body = f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART{start}\r\nDTEND{end}\r\n"
    for line in lines:
        body += line + "\r\n"
    return body + "END:VEVENT\r\n"

"""`sitegen serve`: build into a private folder, serve it on localhost, rebuild on save, and tell
open pages to reload (or show the errors) once a rebuild has finished.

The real public/ is never written. The reload script is added to HTML responses on the way out,
so no file on disk ever holds it.
"""

from __future__ import annotations

import contextlib
import html
import json
import mimetypes
import os
import shutil
import sys
import tempfile
import threading
import time
import webbrowser
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .build import (
    Options,
    Snapshot,
    build_from_files,
    inside_root,
    read_folder,
    read_sources,
    rebuild_annotations,
    site_config,
)
from .memo import Memo
from .model import Problem
from .status import CONFIG_FILES, SOURCE_FOLDERS, is_annotation
from .watch import Debouncer, Watcher

INTERNAL = "/__sitegen/"
LIVE_ASSETS = resources.files("sitegen") / "live"
KEEPALIVE_SECONDS = 15.0
CONTEXT_LINES = 2


@dataclass(frozen=True, slots=True)
class Found:
    """What a URL path resolves to: a file to send, or a redirect to add the folder's slash."""

    file: Path | None = None
    redirect: str | None = None


def resolve(root: Path, url: str) -> Found | None:
    """The file under root that a request path names, or None (404). Decodes once, never
    follows a link out of root, refuses '..', NUL and backslashes whatever their encoding."""
    path = unquote(urlsplit(url).path, errors="strict")
    if "\x00" in path or "\\" in path or not path.startswith("/"):
        return None
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts):
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *parts))
    if real != real_root and not real.startswith(real_root + os.sep):
        return None
    if os.path.isdir(real):
        if not path.endswith("/"):
            return Found(redirect=path + "/")
        real = os.path.join(real, "index.html")
    return Found(file=Path(real)) if os.path.isfile(real) else None


def problem_report(root: Path, problems: list[Problem]) -> list[dict[str, Any]]:
    """Errors for the overlay, each with the lines of its file around it."""
    report = []
    for problem in problems:
        where = problem.where
        lines: list[tuple[int, str]] = []
        source = root / where.path
        if where.line and source.is_file():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = source.read_text("utf-8").splitlines()
                first = max(1, where.line - CONTEXT_LINES)
                last = min(len(text), where.line + CONTEXT_LINES)
                lines = [(number, text[number - 1]) for number in range(first, last + 1)]
        report.append({"where": str(where), "line": where.line, "column": where.column,
                       "severity": problem.severity, "message": problem.message,
                       "hint": problem.hint, "lines": lines})
    return report


class LiveSite:
    """The last good build in a private folder, and the state every open page follows."""

    def __init__(self, root: Path, options: Options, out: Path, log: Any = print) -> None:
        self.root = root
        self.options = options
        self.out = out
        self.log = log
        self.memo = Memo()
        self.sources: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {}
        self.epoch = 0
        self.kind = "reload"
        self.errors: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.build_lock = threading.Lock()
        self.unreadable = False  # the last read refused a file: read everything again next time
        self.snapshot: Snapshot | None = None  # the last build, when it succeeded

    def rebuild(self, changed: set[str] | None = None) -> bool:
        """Build again (re-reading only `changed` paths when given); True when it succeeded.

        When only annotation files were edited, and the edits reach no further than their own
        articles' pages and the feed, just those are rendered: a save shows at once even on a
        site of 10,000 articles. Anything else builds the whole site (reusing the memo)."""
        with self.build_lock:
            started = time.perf_counter()
            problems: list[Problem] = []
            fresh = changed is None or not self.sources or self.unreadable
            before = self.sources
            self.sources = (read_sources(self.root, problems) if fresh
                            else refresh_sources(self.root, self.sources, changed or set(), problems))
            self.unreadable = bool(problems)
            edited = (None if fresh or problems else
                      edited_annotations(before, self.sources, relative_paths(self.root, changed or ())))
            quick = (rebuild_annotations(self.snapshot, edited)
                     if edited is not None and self.snapshot is not None else None)
            if quick is not None:
                files, problems, self.snapshot = quick
                site = None
                hits, misses = len(self.snapshot.frame.cites) - len(edited), len(edited)
            else:
                site, build_problems = build_from_files(self.sources, self.options, memo=self.memo)
                problems += build_problems
                hits, misses = self.memo.end_build()
                self.snapshot = site.snapshot if site is not None else None
            errors = [p for p in problems if p.severity == "error"]
            for problem in sorted(problems, key=lambda problem: problem.order):
                self.log(str(problem))
            if quick is None and (site is None or errors):
                self.snapshot = None
                self._publish("error", problem_report(self.root, errors))
                self.log(f"{len(errors)} error{'s' * (len(errors) != 1)}: still serving the last good build")
                return False
            written = self._write(files) if site is None else self._sync(site.files)
            only_css = bool(written) and all(path.endswith(".css") for path in written)
            self._publish("css" if only_css else "reload", [])
            seconds = time.perf_counter() - started
            self.log(f"Rebuilt in {seconds * 1000:.0f} ms: {len(written)} file(s) changed, "
                     f"{hits:,} reused, {misses:,} rendered")
            return True

    def _sync(self, files: dict[str, bytes]) -> list[str]:
        """Write what changed (each file replaced whole), remove what is gone."""
        written = self._write(files)
        for path in self.files.keys() - files.keys():
            with contextlib.suppress(FileNotFoundError):
                (self.out / path).unlink()
        self.files = files
        return written

    def _write(self, files: dict[str, bytes]) -> list[str]:
        """Write the files that differ from what is on disk, each replaced whole."""
        written = [path for path, data in files.items() if self.files.get(path) != data]
        for path in written:
            target = self.out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temporary.write_bytes(files[path])
            os.replace(temporary, target)
            self.files[path] = files[path]
        return written

    def _publish(self, kind: str, errors: list[dict[str, Any]]) -> None:
        with self.changed:
            if kind != "error":
                self.epoch += 1
                self.kind = kind
            self.errors = errors
            self.changed.notify_all()

    def state(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "kind": self.kind, "errors": self.errors}


def edited_annotations(before: dict[str, bytes], after: dict[str, bytes],
                       changed: Iterable[str]) -> dict[str, bytes] | None:
    """The annotation files whose bytes changed between two readings of the sources, or None
    when anything else changed: a file added or removed, or one that is not an annotation.
    `changed` holds every path (relative to the site) whose bytes may differ."""
    changed = list(changed)
    if before.keys() != after.keys() or any(path not in after for path in changed):
        return None  # a file added or removed, or a folder (whose files may have changed)
    edited = {path: after[path] for path in changed if before[path] != after[path]}
    return edited if all(is_annotation(path) for path in edited) else None


def relative_paths(root: Path, names: Iterable[str]) -> set[str]:
    """The names under root, relative to it ('content/a.md'); others are left out."""
    found = set()
    for name in names:
        with contextlib.suppress(ValueError):
            found.add(Path(name).relative_to(root).as_posix())
    return found


def refresh_sources(root: Path, sources: dict[str, bytes], changed: set[str],
                    problems: list[Problem]) -> dict[str, bytes]:
    """The sources with the changed paths read again; a changed folder is read again whole.
    Links out of the site's folder are refused, as read_sources does."""
    refreshed = dict(sources)
    for name in sorted(changed):
        path = Path(name)
        try:
            relative = path.relative_to(root).as_posix()
        except ValueError:
            continue
        if path.is_dir() or not path.exists():
            prefix = relative + "/"
            for key in [key for key in refreshed if key == relative or key.startswith(prefix)]:
                del refreshed[key]
            if path.is_dir():  # a folder moved or made: read what it holds
                refreshed.update(read_folder(root, path, problems))
        elif relative in CONFIG_FILES or relative.split("/", 1)[0] in SOURCE_FOLDERS:
            if not inside_root(root, path, problems):
                refreshed.pop(relative, None)
                continue
            with contextlib.suppress(OSError):
                refreshed[relative] = path.read_bytes()
    return refreshed


def normal_base_path(path: str) -> str:
    """'/repo', 'repo/' or '/repo/' -> '/repo/'; '' and '/' -> '/'."""
    parts = [part for part in path.split("/") if part]
    return "/" + "".join(part + "/" for part in parts)


def configured_base_path(root: Path) -> str:
    """The path of the site's configured base_url ('/' when unset or unreadable)."""
    files = {name: (root / name).read_bytes() for name in CONFIG_FILES if (root / name).is_file()}
    return site_config(files).base_path


def allowed_hosts(host: str, port: int) -> set[str]:
    names = {host, "localhost", "127.0.0.1", "[::1]"}
    return {f"{name}:{port}" for name in names} | names


def allowed_origins(host: str, port: int) -> set[str]:
    """The origins of the server's own pages (browsers leave out port 80): no other page may ask."""
    names = {host, "localhost", "127.0.0.1", "[::1]"}
    return {f"http://{name}" + ("" if port == 80 else f":{port}") for name in names}


class Handler(BaseHTTPRequestHandler):
    server: LiveServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a kept-alive connection
    # then waits for the client's delayed ACK, some 40 ms, on every response.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal shows builds and errors, not every request

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        if self.headers.get("Host", "") not in self.server.hosts:
            self._send(HTTPStatus.FORBIDDEN, b"Forbidden: unknown Host header\n", "text/plain", head)
            return
        origin = self.headers.get("Origin")  # browsers send it on cross-site requests
        if origin is not None and origin not in self.server.origins:
            self._send(HTTPStatus.FORBIDDEN, b"Forbidden: request from another site\n", "text/plain", head)
            return
        try:
            path = urlsplit(self.path).path
        except ValueError:  # "http://[/x": a host part that is not one
            path = ""
        if path.startswith(INTERNAL):
            self._internal(path[len(INTERNAL) :], head)
            return
        base = self.server.base_path
        if base != "/" and path in ("/", base.rstrip("/")):
            self._redirect(base)  # as the site is published: under its base path
            return
        found = None
        if path.startswith(base):
            try:
                found = resolve(self.server.live.out, "/" + self.path[len(base) :])
            except (UnicodeDecodeError, ValueError):
                found = None
        if found and found.redirect:
            self._redirect(base + found.redirect[1:])
            return
        status = HTTPStatus.OK
        if found is None or found.file is None:
            status, file = HTTPStatus.NOT_FOUND, self.server.live.out / "404.html"
        else:
            file = found.file
        try:
            body = file.read_bytes()
        except OSError:
            body, file = b"Not found\n", Path("404.txt")
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind == "text/html":
            body = inject_live_script(body, self.server.live.epoch, base)
        self._send(status, body, kind, head)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _internal(self, name: str, head: bool) -> None:
        if name == "events":
            self._events()
        elif name == "state":
            body = json.dumps(self.server.live.state()).encode()
            self._send(HTTPStatus.OK, body, "application/json", head)
        elif name in ("live.js", "worker.js"):
            self._send(HTTPStatus.OK, (LIVE_ASSETS / name).read_bytes(), "text/javascript", head)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain", head)

    def _events(self) -> None:
        """Server-Sent Events: the state now, then each time it changes; bounded by shutdown."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        live = self.server.live
        seen: tuple[int, int] | None = None
        try:
            while not self.server.stopping.is_set():
                with live.changed:
                    current = (live.epoch, id(live.errors))
                    if current == seen:
                        live.changed.wait(timeout=KEEPALIVE_SECONDS)
                        current = (live.epoch, id(live.errors))
                    message = json.dumps(live.state()) if current != seen else None
                seen = current
                chunk = f"data: {message}\n\n" if message else ": keep-alive\n\n"
                self.wfile.write(chunk.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, status: HTTPStatus, body: bytes, kind: str, head: bool) -> None:
        self.send_response(status)
        charset = "; charset=utf-8" if kind.startswith("text/") or kind.endswith(("json", "xml")) else ""
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def inject_live_script(page: bytes, epoch: int, base_path: str = "/") -> bytes:
    tag = (f'<script src="{INTERNAL}live.js" data-epoch="{epoch}" data-base="{html.escape(base_path)}" '
           'defer></script>').encode()
    index = page.rfind(b"</body>")
    return page[:index] + tag + page[index:] if index != -1 else page + tag


class LiveServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], live: LiveSite, base_path: str = "/") -> None:
        super().__init__(address, Handler)
        self.live = live
        self.base_path = base_path
        self.hosts = allowed_hosts(address[0], self.server_address[1])
        self.origins = allowed_origins(address[0], self.server_address[1])
        self.stopping = threading.Event()

    def shutdown(self) -> None:
        """Stop from another thread: event streams end, then the request loop."""
        self.stopping.set()
        with self.live.changed:
            self.live.changed.notify_all()
        super().shutdown()


def serve(root: Path, host: str, port: int, drafts: bool, open_browser: bool, poll: bool,
          base_path: str | None = None) -> int:
    """Serve under base_path: by default the path of the configured base_url, as published."""
    out = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
    base_path = normal_base_path(base_path if base_path is not None else configured_base_path(root))
    try:
        server = LiveServer((host, port), LiveSite(root, Options(drafts=drafts), out), base_path)
    except OSError as error:
        shutil.rmtree(out, ignore_errors=True)
        print(f"sitegen: error: cannot listen on {host}:{port}: {error.strerror}\n"
              "  hint: choose another --port, or --port 0 for any free one", file=sys.stderr)
        return 2
    bound_port = server.server_address[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}{base_path}"
    live = server.live
    live.options = Options(base_url=url, drafts=drafts)
    live.rebuild()
    watcher: Watcher | None = None

    def on_change(paths: set[str]) -> None:
        if watcher:
            watcher.watch_new_folders()
        live.rebuild(paths)

    debouncer = Debouncer(on_change)
    debouncer.start()
    watcher = Watcher(root, SOURCE_FOLDERS, CONFIG_FILES, [out], debouncer, poll)
    print(f"Serving {url} (Ctrl-C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()  # event streams end; serve_forever has already returned
        with live.changed:
            live.changed.notify_all()
        watcher.stop()
        debouncer.stop()
        server.server_close()
        shutil.rmtree(out, ignore_errors=True)
    return 0

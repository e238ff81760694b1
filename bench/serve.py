"""Time the live preview: from saving an annotation file to the rebuilt page.

    python bench/serve.py [--size 1000] [--saves 20] [--article a00500]

Starts `python -m sitegen serve --root bench/corpus-N --port 0` as a child process (the corpus is
generated or reused exactly as by run.py) and waits for its `Serving` line. Then, on one article's
annotation file, each save appends a unique token to the text of the first note and measures two
figures, each the median of --saves saves:

1. save to page on disk: from just before the write until an HTTP GET of the article page
   (polled every 5 ms) returns a body holding the token;
2. save to reloaded page in a browser: headless Chromium (Debian's, driven by Playwright) has the
   article open; from just before the write until the page's DOM holds the token, after the live
   reload.

Both are wall-clock times taken in this process (time.perf_counter). The server's own
`Rebuilt in N ms` lines are collected from its stdout and their median is reported as well. The
file's original content is restored at the end, and the server is stopped with SIGINT and must
exit 0.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(REPO))

from run import ensure_corpus, machine_summary, split_at_first_note  # noqa: E402

from sitegen.frontmatter import split_document  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
POLL_SECONDS = 0.005
LIMIT_SECONDS = 10.0
PAUSE_SECONDS = 0.3
START_LIMIT_SECONDS = 180.0
TARGET_DISK_MS = 100
TARGET_DISK_MS_AT_SCALE = 50  # at 10,000 articles and more (the speed-at-scale targets)
SCALE = 10_000
TARGET_BROWSER_MS = 300
REBUILT = re.compile(r"^Rebuilt in (\d+) ms")
SERVING = re.compile(r"^Serving (http://\S+)")


class BenchError(Exception):
    pass


@dataclass
class Server:
    """The `sitegen serve` child and what it prints, line by line, with the time each arrived."""

    process: subprocess.Popen[str]
    lines: list[tuple[float, str]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    @classmethod
    def start(cls, root: Path) -> Server:
        command = [sys.executable, "-m", "sitegen", "serve", "--root", str(root), "--port", "0"]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"  # the server prints its rebuild lines without flushing
        process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   encoding="utf-8", errors="replace", bufsize=1)
        server = cls(process)
        threading.Thread(target=server._read, name="server-stdout", daemon=True).start()
        return server

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.arrived:
                self.lines.append((time.perf_counter(), line.rstrip("\n")))
                self.arrived.notify_all()
        with self.arrived:
            self.arrived.notify_all()

    def wait_for(self, test: Callable[[list[tuple[float, str]]], bool], limit: float) -> bool:
        deadline = time.monotonic() + limit
        with self.arrived:
            while not test(self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    return test(self.lines)
                self.arrived.wait(timeout=min(left, 0.5))
            return True

    def wait_until_serving(self) -> str:
        found = self.wait_for(lambda lines: any(SERVING.match(text) for _, text in lines),
                              START_LIMIT_SECONDS)
        if not found:
            raise BenchError(f"the server did not print `Serving` within {START_LIMIT_SECONDS:.0f} s"
                             f" (exit status {self.process.poll()}):\n{self.output()}")
        self.url = next(m.group(1) for _, text in self.lines if (m := SERVING.match(text)))
        return self.url

    def rebuilds(self, since: float = 0.0, until: float = float("inf")) -> list[int]:
        """Milliseconds of the `Rebuilt in N ms` lines that arrived in [since, until)."""
        with self.arrived:
            return [int(m.group(1)) for when, text in self.lines
                    if since <= when < until and (m := REBUILT.match(text))]

    def output(self, last: int = 60) -> str:
        with self.arrived:
            return "\n".join(text for _, text in self.lines[-last:])

    def stop(self) -> int:
        """Ctrl-C by PID; the exit status (the server is killed if it ignores it for 15 s)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise BenchError("the server did not exit within 15 s of SIGINT; killed it") from None


@dataclass(frozen=True)
class Article:
    path: Path
    url_path: str
    original: bytes
    before: str  # the text up to the end of the first note's first line
    after: str

    @classmethod
    def load(cls, root: Path, name: str) -> Article:
        path = root / "content" / f"{name}.md"
        original = path.read_bytes()
        text = original.decode("utf-8")
        document, problems = split_document(str(path), text)
        if document is None:
            raise BenchError(f"{path}: unreadable front matter: {problems}")
        slug_field = document.fields.get("slug")
        slug = str(slug_field.value) if slug_field else path.stem
        parts = split_at_first_note(text)
        if parts is None:
            raise BenchError(f'{path}: no note heading (## "quote") followed by the note\'s text')
        return cls(path, f"/{slug}/", original, *parts)

    def save(self, token: str) -> None:
        """Write the file with the token at the end of the first note's first line."""
        self.path.write_bytes(f"{self.before} {token}{self.after}".encode())

    def restore(self) -> None:
        self.path.write_bytes(self.original)


class Fetcher:
    """GET over one kept-alive connection, reconnecting when the server closes it."""

    def __init__(self, url: str) -> None:
        match = re.match(r"http://([^/:]+|\[[^\]]+\]):(\d+)(/\S*)", url)
        if match is None:
            raise BenchError(f"cannot read host and port from {url!r}")
        self.host, self.port = match.group(1).strip("[]"), int(match.group(2))
        self.base = match.group(3).rstrip("/")  # the site is served under its base_url's path
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> str:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
            try:
                self.connection.request("GET", self.base + path)
                response = self.connection.getresponse()
                body = response.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.status != 200:
                raise BenchError(f"GET {self.base + path}: HTTP {response.status}")
            return body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def time_disk(article: Article, fetcher: Fetcher, tokens: list[str]) -> list[float]:
    """Seconds from each save until a GET of the article page returns the new text."""
    times = []
    for number, token in enumerate(tokens, 1):
        started = time.perf_counter()
        article.save(token)
        while token not in fetcher.get(article.url_path):
            if time.perf_counter() - started > LIMIT_SECONDS:
                raise BenchError(f"save {number}: {token} not served within {LIMIT_SECONDS:.0f} s")
            time.sleep(POLL_SECONDS)
        times.append(time.perf_counter() - started)
        print(f"  disk save {number}/{len(tokens)}: {times[-1] * 1000:.0f} ms", flush=True)
        time.sleep(PAUSE_SECONDS)
    return times


def time_browser(article: Article, url: str, tokens: list[str]) -> tuple[list[float], list[str]]:
    """Seconds from each save until the open page, reloaded, shows the new text; page errors."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    errors: list[str] = []
    holds = "token => document.body !== null && document.body.textContent.includes(token)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: message.type == "error" and errors.append(
                f"{message.text} ({message.location.get('url', '?')})"))
            page.goto(url.rstrip("/") + article.url_path, wait_until="load")
            time.sleep(1.0)  # let the live script's worker open its event stream
            for number, token in enumerate(tokens, 1):
                started = time.perf_counter()
                article.save(token)
                try:
                    page.wait_for_function(holds, arg=token, timeout=LIMIT_SECONDS * 1000)
                except PlaywrightError as failure:
                    raise BenchError(f"save {number}: {token} not in the page within "
                                     f"{LIMIT_SECONDS:.0f} s: {failure}") from None
                times.append(time.perf_counter() - started)
                print(f"  browser save {number}/{len(tokens)}: {times[-1] * 1000:.0f} ms", flush=True)
                time.sleep(PAUSE_SECONDS)
        finally:
            browser.close()
    return times, errors


def summary(label: str, seconds: list[float], target_ms: int) -> str:
    ms = [s * 1000 for s in seconds]
    median = statistics.median(ms)
    verdict = "met" if median < target_ms else "MISSED"
    return (f"{label}: median {median:.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}, {len(ms)} saves)"
            f" | target < {target_ms} ms: {verdict}")


def rebuild_summary(label: str, rebuilds: list[int], saves: int) -> str:
    if not rebuilds:
        return f"server `Rebuilt in N ms`, {label}: none seen for {saves} saves"
    return (f"server `Rebuilt in N ms`, {label}: median {statistics.median(rebuilds):.0f} ms "
            f"(min {min(rebuilds)}, max {max(rebuilds)}, {len(rebuilds)} rebuilds for {saves} saves)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="articles in the corpus (default: 1000)")
    parser.add_argument("--saves", type=int, default=20, help="saves per figure (default: 20)")
    parser.add_argument("--article", default="a00500",
                        help="the annotation file to edit, content/NAME.md (default: a00500)")
    parser.add_argument("--no-browser", action="store_true",
                        help="measure the page on disk only (no Chromium)")
    arguments = parser.parse_args(argv)
    if arguments.size < 1 or arguments.saves < 1:
        parser.error("--size and --saves must be at least 1")

    print(machine_summary(), flush=True)
    root = ensure_corpus(arguments.size)
    try:
        article = Article.load(root, arguments.article)
    except (OSError, UnicodeDecodeError, BenchError) as failure:
        print(f"--article {arguments.article}: {failure}", file=sys.stderr)
        return 1
    if not arguments.no_browser and not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found (apt-get install chromium); use --no-browser", file=sys.stderr)
        return 1
    nonce = secrets.token_hex(3)
    disk_tokens = [f"edit-{nonce}-d{n:03d}" for n in range(1, arguments.saves + 1)]
    browser_tokens = [f"edit-{nonce}-b{n:03d}" for n in range(1, arguments.saves + 1)]

    lines: list[str] = []
    started = time.perf_counter()
    server = Server.start(root)
    status: int | None = None
    disk_target = TARGET_DISK_MS_AT_SCALE if arguments.size >= SCALE else TARGET_DISK_MS
    try:
        url = server.wait_until_serving()
        startup = server.rebuilds()
        print(f"server: {url} after {time.perf_counter() - started:.1f} s"
              f" (initial build: {startup[0] if startup else '?'} ms); editing "
              f"{article.path.relative_to(REPO)}, page {article.url_path}", flush=True)
        fetcher = Fetcher(url)
        try:
            fetcher.get(article.url_path)  # the page is served (HTTP 200) before the first save
            disk_since = time.perf_counter()
            disk = time_disk(article, fetcher, disk_tokens)
            disk_until = time.perf_counter()
        finally:
            fetcher.close()
        lines.append(summary("save to page on disk (HTTP GET)", disk, disk_target))
        lines.append(rebuild_summary("disk saves", server.rebuilds(disk_since, disk_until), len(disk)))
        if not arguments.no_browser:
            browser_since = time.perf_counter()
            browser, page_errors = time_browser(article, url, browser_tokens)
            browser_until = time.perf_counter()
            lines.append(summary("save to reloaded page in Chromium", browser, TARGET_BROWSER_MS))
            lines.append(rebuild_summary("browser saves",
                                         server.rebuilds(browser_since, browser_until), len(browser)))
            if page_errors:
                shown = "; ".join(sorted(set(page_errors)))
                lines.append(f"page errors in Chromium ({len(page_errors)}, not timed): {shown}")
        every = server.rebuilds(disk_since, time.perf_counter())
        lines.append(rebuild_summary("all saves", every, arguments.saves * (1 + (not arguments.no_browser))))
    except BenchError as failure:
        print(f"serve benchmark failed: {failure}", file=sys.stderr)
        return 1
    finally:
        try:
            article.restore()
            if server.process.poll() is None and server.url:
                count = len(server.rebuilds())  # let the restore's rebuild finish before Ctrl-C
                server.wait_for(lambda _: len(server.rebuilds()) > count, LIMIT_SECONDS)
        finally:
            try:
                status = server.stop()
            except BenchError as failure:
                print(f"serve benchmark: {failure}", file=sys.stderr)
                status = None
    if status != 0:
        print(f"the server exited with status {status} after SIGINT:\n{server.output()}", file=sys.stderr)
        return 1
    print("\nsummary")
    print(machine_summary())
    print(f"corpus-{arguments.size}: {arguments.size:,} articles, editing the first note of "
          f"{article.path.name} (page {article.url_path})")
    for line in lines:
        print(line)
    print(f"targets (spec): save to page on disk < {TARGET_DISK_MS} ms (< {TARGET_DISK_MS_AT_SCALE} ms "
          f"at {SCALE:,} articles and more); save to reloaded page < {TARGET_BROWSER_MS} ms")
    print("server: stopped with SIGINT, exit status 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())

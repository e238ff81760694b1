"""`sitegen serve`: the path resolver, the debouncer, and the live loop end to end in Chromium."""

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sitegen.serve import Found, inject_live_script, resolve
from sitegen.watch import Debouncer

from .conftest import REPO, annotation, chromium, site_files
from .conftest import write_site as write_files

# --- the path resolver ------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "out"
    (root / "a").mkdir(parents=True)
    (root / "index.html").write_text("home")
    (root / "a" / "index.html").write_text("a")
    (root / "a" / "x.css").write_text("css")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "out-leak").mkdir()
    (tmp_path / "out-leak" / "x.html").write_text("leak")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    (root / "inside").symlink_to(root / "a" / "x.css")
    return root


@pytest.mark.parametrize(("url", "expected"), [
    ("/", "index.html"),
    ("/a/", "a/index.html"),
    ("/a/x.css", "a/x.css"),
    ("/a/x.css?v=2#top", "a/x.css"),
    ("/a%2Fx.css", "a/x.css"),
    ("/inside", "a/x.css"),
])
def test_resolver_serves_files_under_the_output_folder(served, url, expected):
    found = resolve(served, url)
    assert found is not None and found.file is not None
    assert found.file.resolve() == (served / expected).resolve()


def test_resolver_redirects_a_folder_without_its_slash(served):
    assert resolve(served, "/a") == Found(redirect="/a/")


@pytest.mark.parametrize("url", [
    "/../secret.txt", "/a/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/%2e%2e/secret.txt",
    "/%252e%252e/secret.txt", "/..%2fsecret.txt", "/..\\secret.txt", "/a%5c..%5c..%5csecret.txt",
    "/link", "/index.html%00.css", "//etc/passwd", "/../out-leak/x.html", "/nothing-here",
    "secret.txt",
])
def test_resolver_refuses_everything_outside_or_missing(served, url):
    assert resolve(served, url) is None


def test_live_script_goes_before_the_closing_body_tag():
    page = inject_live_script(b"<html><body><p>x</p></body></html>", 7, "/repo/")
    assert page.endswith(b'<script src="/__sitegen/live.js" data-epoch="7" data-base="/repo/" defer>'
                         b'</script></body></html>')


# --- the debouncer ----------------------------------------------------------------------------


def test_a_burst_of_events_gives_one_flush_with_every_path():
    batches = []
    done = threading.Event()
    debouncer = Debouncer(lambda paths: (batches.append(paths), done.set()), quiet=0.1)
    debouncer.start()
    for index in range(50):
        debouncer.add([f"content/{index}.md"])
        time.sleep(0.001)
    assert done.wait(5)
    time.sleep(0.3)
    debouncer.stop()
    assert len(batches) == 1 and len(batches[0]) == 50


def test_the_end_of_a_save_flushes_after_the_short_quiet_period_and_anything_else_the_long_one():
    flushed = []
    debouncer = Debouncer(lambda paths: flushed.append((paths, time.monotonic())), quiet=1.0, settle=0.02)
    debouncer.start()
    try:
        started = time.monotonic()
        debouncer.add(["content/a.md"])  # created, or written to: more may come
        debouncer.add(["content/a.md"], ends_a_save=True)  # closed after writing
        deadline = started + 5
        while not flushed and time.monotonic() < deadline:
            time.sleep(0.005)
        assert flushed and flushed[0][0] == {"content/a.md"}
        assert flushed[0][1] - started < 0.5
        started = time.monotonic()
        debouncer.add(["content/b.md"])
        time.sleep(0.5)
        assert len(flushed) == 1  # still within its long quiet period
        deadline = started + 5
        while len(flushed) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert flushed[1][0] == {"content/b.md"} and flushed[1][1] - started >= 1.0
    finally:
        debouncer.stop()


def test_a_change_during_a_flush_gives_one_more_flush_and_is_never_lost():
    batches = []
    first_started = threading.Event()
    release = threading.Event()

    def flush(paths):
        batches.append(paths)
        if len(batches) == 1:
            first_started.set()
            release.wait(5)

    debouncer = Debouncer(flush, quiet=0.05)
    debouncer.start()
    debouncer.add(["a"])
    assert first_started.wait(5)
    debouncer.add(["b"])
    debouncer.add(["c"])
    release.set()
    deadline = time.monotonic() + 5
    while len(batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    debouncer.stop()
    assert batches == [{"a"}, {"b", "c"}]


# --- the server, as a user runs it ------------------------------------------------------------

NOTE = '## "Hainan" #1\nFirst version of the note.'


class Server:
    def __init__(self, root: Path, *options: str):
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sitegen", "serve", "--port", "0", "--root", str(root), *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while not self.url and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.url, "".join(self.lines)

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)
            found = re.search(r"Serving (http://\S+/)", line)
            if found:
                self.url = found[1]

    def get(self, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.url.rstrip("/") + path)
        if host:
            request.add_header("Host", host)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def origin_get(self, path: str) -> tuple[int, dict, bytes]:
        """A GET of a path from the server's root, redirects not followed."""
        parts = urllib.parse.urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return code, "".join(self.lines)


@pytest.fixture
def site(tmp_path):
    root = write_files(tmp_path / "site", site_files({"content/a.md": annotation(NOTE)}))
    server = Server(root)
    yield root, server
    server.stop()


def test_server_sends_pages_with_no_store_and_the_sites_404(site):
    _, server = site
    status, headers, body = server.get("/a/")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"].startswith("text/html")
    assert b"/__sitegen/live.js" in body
    status, _, body = server.get("/missing/page.html")
    assert status == 404 and b"Page not found" in body
    assert server.get("/assets/style.css")[1]["Content-Type"].startswith("text/css")
    assert server.get("/a")[0] == 200  # redirected to /a/


def test_the_site_is_served_under_its_base_path_as_published(site):
    _, server = site
    assert server.url.endswith("/repo/")  # base_url = "https://example.org/repo/"
    for path in ("/", "/repo"):
        status, headers, _ = server.origin_get(path)
        assert status == 301 and headers["Location"] == "/repo/"
    assert server.origin_get("/repo/a/")[0] == 200
    status, _, body = server.origin_get("/a/")  # where a root-absolute link would lead
    assert status == 404 and b"/repo/assets/style.css" in body  # the site's 404, under the base
    assert b'data-base="/repo/"' in server.origin_get("/repo/")[2]


def test_base_path_slash_serves_the_site_at_the_root(tmp_path):
    root = write_files(tmp_path / "site", site_files({"content/a.md": annotation(NOTE)}))
    server = Server(root, "--base-path", "/")
    try:
        assert urllib.parse.urlsplit(server.url).path == "/"
        assert server.origin_get("/a/")[0] == 200
        assert server.origin_get("/repo/a/")[0] == 404
        assert b"http://127.0.0.1:" in server.origin_get("/feed.xml")[2]  # links point at it
    finally:
        assert server.stop()[0] == 0


def test_server_refuses_foreign_host_headers_and_traversal(site):
    _, server = site
    assert server.get("/", host="evil.example")[0] == 403
    assert server.get("/", host=f"localhost:{urllib.parse.urlsplit(server.url).port}")[0] == 200
    assert server.get("/%2e%2e/%2e%2e/etc/passwd")[0] == 404


def test_serve_never_writes_public_and_build_output_has_no_live_script(site):
    root, _ = site
    assert not (root / "public").exists()
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--root", str(root)],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    for page in (root / "public").rglob("*"):
        if page.is_file():
            assert b"__sitegen" not in page.read_bytes(), page


def test_ctrl_c_stops_cleanly(tmp_path):
    root = write_files(tmp_path / "site", site_files())
    server = Server(root)
    code, output = server.stop()
    assert code == 0
    assert "Traceback" not in output


def test_twenty_clients_get_their_pages_while_a_rebuild_runs(site):
    root, server = site
    streams = []
    port = urllib.parse.urlsplit(server.url).port
    import socket

    for _ in range(20):  # twenty open tabs, each holding an event stream
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(f"GET /__sitegen/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        streams.append(connection)
    (root / "content" / "a.md").write_text(annotation('## "Hainan" #1\nRebuilding now.'))
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: server.get("/a/")[0], range(60)))
    assert results == [200] * 60
    for connection in streams:
        assert b"data: " in connection.recv(4096) or b"data: " in connection.recv(4096)
        connection.close()


# --- in a real browser ------------------------------------------------------------------------

@pytest.fixture
def page():
    with chromium() as browser:
        yield browser.new_page()


def test_edits_reload_the_page_and_errors_show_over_it_until_fixed(site, page):
    root, server = site
    note_file = root / "content" / "a.md"
    page.goto(server.url + "a/")
    page.wait_for_selector("text=First version of the note.")

    note_file.write_text(annotation('## "Hainan" #1\nSecond version, written in place.'))
    page.wait_for_selector("text=Second version, written in place.", timeout=2000)

    temporary = note_file.with_name("a.md.tmp~")  # how vim and JetBrains save
    temporary.write_text(annotation('## "Hainan" #1\nThird version, renamed over the file.'))
    os.replace(temporary, note_file)
    page.wait_for_selector("text=Third version, renamed over the file.", timeout=2000)

    note_file.write_text(annotation('## "Hainan Island"\nBroken quote.'))
    overlay = page.wait_for_selector("#sitegen-overlay", timeout=2000)
    assert "content/a.md:5:4" in overlay.inner_text()
    assert "not found" in overlay.inner_text()

    note_file.write_text(annotation('## "Hainan" #1\nFixed again.'))
    page.wait_for_selector("text=Fixed again.", timeout=2000)
    assert page.query_selector("#sitegen-overlay") is None


def test_a_css_change_swaps_the_stylesheet_without_a_reload(site, page):
    root, server = site
    stylesheet = root / "static" / "assets" / "style.css"
    stylesheet.parent.mkdir(parents=True)
    stylesheet.write_text("body { color: rgb(1, 2, 3); }")
    page.goto(server.url + "a/")
    page.wait_for_function("getComputedStyle(document.body).color === 'rgb(1, 2, 3)'", timeout=5000)
    page.evaluate("window.__marker = 'not reloaded'")
    stylesheet.write_text("body { color: rgb(4, 5, 6); }")
    page.wait_for_function("getComputedStyle(document.body).color === 'rgb(4, 5, 6)'", timeout=2000)
    assert page.evaluate("window.__marker") == "not reloaded"


def test_an_open_page_whose_article_was_deleted_goes_to_the_index(site, page):
    root, server = site
    page.goto(server.url + "a/")
    (root / "content" / "a.md").unlink()
    page.wait_for_url(server.url, timeout=3000)


# --- the watcher ------------------------------------------------------------------------------


@pytest.mark.parametrize("poll", [False, True])
def test_watcher_sees_saves_and_rename_saves_but_not_its_ignored_folder(tmp_path, poll):
    from sitegen.watch import Watcher

    (tmp_path / "content").mkdir()
    ignored = tmp_path / "content" / "out"
    ignored.mkdir()
    batches = []
    arrived = threading.Event()
    debouncer = Debouncer(lambda paths: (batches.append(paths), arrived.set()), quiet=0.05)
    debouncer.start()
    watcher = Watcher(tmp_path, ["content", "static"], ["sitegen.toml"], [ignored], debouncer, poll)
    try:
        time.sleep(0.3)
        (ignored / "page.html").write_text("output")  # never a reason to rebuild
        (tmp_path / "content" / "a.md").write_text("one")
        assert arrived.wait(5)
        assert str(tmp_path / "content" / "a.md") in set().union(*batches)
        arrived.clear()
        temporary = tmp_path / "content" / ".a.md.swp"
        temporary.write_text("two")
        os.replace(temporary, tmp_path / "content" / "a.md")
        assert arrived.wait(5)
        (tmp_path / "static").mkdir()  # a source folder made after the start is watched too
        assert arrived.wait(5)
        watcher.watch_new_folders()
        time.sleep(0.6)  # a polling watch takes its first snapshot
        arrived.clear()
        batches.clear()
        (tmp_path / "static" / "x.css").write_text("x")
        assert arrived.wait(5)
    finally:
        watcher.stop()
        debouncer.stop()
    seen = set().union(*batches)
    # the new file, or its folder (whose contents a rebuild then reads again whole)
    assert seen & {str(tmp_path / "static" / "x.css"), str(tmp_path / "static")}
    assert not any("out" in Path(path).parts for path in seen)

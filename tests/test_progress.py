"""The live progress line: on a terminal only, only for builds longer than about a second."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitegen import progress
from sitegen.progress import TerminalProgress

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from corpus import make_corpus  # noqa: E402

# sitegen's command with the progress line drawn from the start, not after a second: what these
# tests look at must not hang on how fast the machine builds 800 articles.
NO_DELAY = [sys.executable, "-c", "from sitegen import cli, progress; progress.DELAY = 0.0; cli.run()"]
DRAWN = re.compile(r"\r\x1b\[K(anchor|render): ([\d,]+)/([\d,]+) articles(?:, ([\d,]+) articles/s)?")


def test_nothing_is_drawn_in_the_first_second(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    shown = TerminalProgress(stream)
    shown.start("render", 10)
    shown.advance(5)
    shown.clear()
    assert stream.getvalue() == ""


def test_the_line_shows_stage_count_total_and_rate_and_is_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    stream = io.StringIO()
    shown = TerminalProgress(stream)
    shown.start("render", 10_000)
    time.sleep(0.01)
    shown.advance(1_234)
    drawn = DRAWN.findall(stream.getvalue())
    assert drawn[-1][:3] == ("render", "1,234", "10,000") and drawn[-1][3]
    shown.clear()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_redraws_are_limited_to_ten_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    stream = io.StringIO()
    shown = TerminalProgress(stream)
    shown.start("render", 100_000)
    for _ in range(100_000):
        shown.advance()
    assert len(DRAWN.findall(stream.getvalue())) < 20


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "site"
    make_corpus(root, 800)
    return root


def run_on_terminal(arguments: list[str]) -> tuple[int, str]:
    """Run sitegen with its stdout on a pseudo-terminal; return the exit code and what it showed."""
    leader, follower = pty.openpty()
    child = subprocess.Popen([*NO_DELAY, *arguments], stdout=follower,
                             stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        elif child.poll() is not None:
            break
    os.close(leader)
    child.wait(timeout=60)
    return child.returncode, shown.decode()


def test_a_long_build_on_a_terminal_shows_progress_then_the_summary(big_site: Path) -> None:
    code, shown = run_on_terminal(["build", "--root", str(big_site), "--no-cache"])
    assert code == 0
    assert "(" not in shown.splitlines()[-1] or "cached" not in shown  # --no-cache: no counts
    code, shown = run_on_terminal(["build", "--root", str(big_site)])
    assert code == 0
    drawn = DRAWN.findall(shown)
    assert drawn, shown[-500:]
    assert {stage for stage, *_ in drawn} <= {"anchor", "render"}
    assert all(total == "800" for _, _, total, _ in drawn)
    last = shown.rsplit("\r\x1b[K", 1)[-1]  # the line is erased before the summary
    assert re.fullmatch(r"Built 800 articles, [\d,]+ notes, 50 context entries into .+ in [\d.]+ s "
                        r"\(0 cached, 800 rendered\)\r?\n", last), last


def test_no_progress_when_stdout_is_not_a_terminal_or_with_quiet(big_site: Path) -> None:
    (big_site / "seeds" / "extra.txt").write_text("date 2024-01-01 One more article. Fine.\n")
    try:
        piped = subprocess.run([*NO_DELAY, "build", "--root", str(big_site),
                                "--force"], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
        assert piped.returncode == 0, piped.stderr
        assert "\r" not in piped.stdout and "\x1b" not in piped.stdout
        assert piped.stdout.count("\n") == 1
        code, shown = run_on_terminal(["build", "--root", str(big_site), "--quiet", "--no-cache"])
        assert code == 0 and shown == ""
    finally:
        (big_site / "seeds" / "extra.txt").unlink()

"""The live progress line of a long build on a terminal: stage, articles done / total, rate.

It appears only once a build has run for DELAY seconds (a quick build prints nothing but its
summary), is rewritten in place at most every INTERVAL seconds, and is erased before anything
else is printed. Nothing is shown unless the stream is a terminal.
"""

from __future__ import annotations

import time
from typing import TextIO

DELAY = 1.0
INTERVAL = 0.1


class Progress:
    """Counts what a stage has done; `line` is what a terminal shows of it."""

    def __init__(self) -> None:
        self.stage = ""
        self.done = 0
        self.total = 0
        self.stage_started = time.perf_counter()

    def start(self, stage: str, total: int) -> None:
        self.stage, self.done, self.total = stage, 0, total
        self.stage_started = time.perf_counter()
        self.show()

    def advance(self, count: int = 1) -> None:
        self.done += count
        self.show()

    def show(self) -> None:
        """Called on every change; a terminal's Progress redraws from it."""

    def clear(self) -> None:
        """Erase what show drew."""

    def line(self) -> str:
        seconds = time.perf_counter() - self.stage_started
        rate = f", {self.done / seconds:,.0f} articles/s" if seconds > 0 and self.done else ""
        return f"{self.stage}: {self.done:,}/{self.total:,} articles{rate}"


class TerminalProgress(Progress):
    """Progress drawn on one line of a terminal, rewritten in place."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.started = time.perf_counter()
        self.drawn_at = 0.0
        self.drawn = False

    def show(self) -> None:
        now = time.perf_counter()
        if now - self.started < DELAY or now - self.drawn_at < INTERVAL:
            return
        self.drawn_at = now
        self.drawn = True
        self.stream.write(f"\r\x1b[K{self.line()}")
        self.stream.flush()

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


NO_PROGRESS = Progress()

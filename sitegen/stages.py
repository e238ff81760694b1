"""Time spent in each stage of a build, for `sitegen build --profile`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stages:
    """Seconds per stage, in the order the stages first ran; a stage may run in several parts."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started

    def table(self) -> str:
        total = sum(self.seconds.values()) or 1.0
        width = max((len(stage) for stage in self.seconds), default=5)
        lines = [f"  {stage:<{width}}  {seconds * 1000:8.1f} ms  {seconds / total:6.1%}"
                 for stage, seconds in self.seconds.items()]
        return "\n".join(["Time by stage:", *lines, f"  {'total':<{width}}  {total * 1000:8.1f} ms"])


NO_STAGES = Stages()  # timings nobody reads

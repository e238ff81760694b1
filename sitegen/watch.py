"""Watch a site's sources and call back once per burst of changes.

A save is often several events (write a temp file, rename it over the original; `git checkout`
touches many files): they are gathered for a quiet period, then handed over as one batch. A change
that arrives while the callback runs is kept for the next batch, never lost.

The quiet period is 100 ms after an event that may have more to come (a file created or being
written), and shorter after one that ends a save: a file closed after writing, or moved into
place. The events of one save, or of one `git checkout`, arrive well within a millisecond of each
other, so the short period still gathers them, and a save shows without waiting out the long one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

QUIET_SECONDS = 0.1
SETTLE_SECONDS = 0.01
SAVE_ENDS = ("closed", "moved")  # closed: IN_CLOSE_WRITE; moved: only when moved into a source
EDITOR_LEFTOVERS = (".swp", ".swx", ".swo", "~", ".tmp", ".part", ".crdownload")


class Debouncer:
    """Collects changed paths; calls `flush(paths)` once they have been quiet for `quiet` seconds,
    or for `settle` seconds when the latest change ended a save.

    flush runs on the debouncer's own thread, one call at a time.
    """

    def __init__(self, flush: Callable[[set[str]], None], quiet: float = QUIET_SECONDS,
                 clock: Callable[[], float] = time.monotonic, settle: float = SETTLE_SECONDS) -> None:
        self.flush = flush
        self.quiet = quiet
        self.settle = min(settle, quiet)
        self.clock = clock
        self.pending: set[str] = set()
        self.last_change = 0.0
        self.last_ended_a_save = False
        self.condition = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="sitegen-debouncer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.condition.notify()
        self.thread.join(timeout=5)

    def add(self, paths: Iterable[str], ends_a_save: bool = False) -> None:
        with self.condition:
            self.pending.update(paths)
            self.last_change = self.clock()
            self.last_ended_a_save = ends_a_save
            self.condition.notify()

    def _run(self) -> None:
        while True:
            with self.condition:
                while not self.pending and not self.stopped:
                    self.condition.wait()
                if self.stopped:
                    return
                quiet = self.settle if self.last_ended_a_save else self.quiet
                wait = self.last_change + quiet - self.clock()
                if wait > 0:
                    self.condition.wait(timeout=wait)
                    continue
                batch, self.pending = self.pending, set()
            self.flush(batch)


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, top_level: set[str], ignored: list[Path],
                 debouncer: Debouncer) -> None:
        self.root = root
        self.top_level = top_level
        self.ignored = ignored
        self.debouncer = debouncer

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder's time stamp: the entries that changed report themselves
        paths = [event.src_path, getattr(event, "dest_path", "")]  # a move is an edit of both
        relevant = [str(p) for p in paths if p and self._relevant(Path(str(p)))]
        if relevant:
            # a move ends a save when it puts a file in place, not when it moves one away (vim
            # renames the original to a backup before it writes the new file)
            ends = event.event_type in SAVE_ENDS and str(paths[-1] or paths[0]) in relevant
            self.debouncer.add(relevant, ends_a_save=ends and not event.is_directory)

    def _relevant(self, path: Path) -> bool:
        if path == self.root:  # the folder's own time stamp: its entries report themselves
            return False
        if any(path == folder or folder in path.parents for folder in self.ignored):
            return False
        name = path.name
        if path.parent == self.root:
            return name in self.top_level
        return not (name.startswith((".", "#")) or name.endswith(EDITOR_LEFTOVERS) or name == "4913")


class Watcher:
    """Folders are watched, not files, so that rename-saves are seen; the site's root is watched
    too (its config files, and source folders made after the start)."""

    def __init__(self, root: Path, folders: Iterable[str], files: Iterable[str], ignored: list[Path],
                 debouncer: Debouncer, poll: bool = False) -> None:
        self.root = root
        self.folders = tuple(folders)
        self.observer = PollingObserver(timeout=0.5) if poll else Observer()
        self.handler = _Handler(root, {*self.folders, *files}, ignored, debouncer)
        self.watched: set[str] = set()
        self.observer.schedule(self.handler, str(root), recursive=False)
        self.watch_new_folders()
        self.observer.start()

    def watch_new_folders(self) -> None:
        for name in self.folders:
            if name not in self.watched and (self.root / name).is_dir():
                self.observer.schedule(self.handler, str(self.root / name), recursive=True)
                self.watched.add(name)

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)

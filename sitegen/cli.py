"""The `sitegen` command: parse arguments, run a verb, print problems, choose the exit code.

Exit codes: 0 ok, 1 the site's content has errors, 2 the command was used wrongly.

Each verb imports what it needs when it runs: `build` starts asking about the site's files from
a second process (see ahead) before it imports the rest of sitegen.
"""

from __future__ import annotations

import argparse
import errno
import gc
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__, cachefile
from .ahead import look_ahead
from .parallel import WorkerError, default_jobs
from .progress import NO_PROGRESS, TerminalProgress
from .stages import Stages

if TYPE_CHECKING:
    from .ahead import Ahead
    from .model import Problem, UserError
    from .output import UnsafePathError

OK, CONTENT_ERROR, USAGE_ERROR = 0, 1, 2
BROKEN_PIPE = 120
INTERRUPTED = 130  # as a shell reports a command that SIGINT ended: 128 + 2


class UsageError(Exception):
    pass


_leaving = False  # set by run(): the process ends as soon as the command has


def run() -> NoReturn:
    """The program (`sitegen`, `python -m sitegen`): main(), then leave at once. Tearing the
    interpreter down would walk every object a build left behind: a tenth of a second or more
    after a build of 10,000 articles, with nothing left to do. What is printed is flushed first.

    Output that cannot be written (a reader that went away, as in `sitegen build | head -0`)
    ends the command with 120, as Python does when it cannot flush at exit, without a traceback."""
    global _leaving
    _leaving = True
    try:
        code = main()
    except BrokenPipeError:
        code = BROKEN_PIPE
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or BROKEN_PIPE
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(argv)
    arguments = parser.parse_args(argv)
    if not getattr(arguments, "verb", None):
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        return int(arguments.run(arguments))
    except UsageError as error:
        print(f"sitegen: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except WorkerError as error:  # build, check and deploy all share their work out
        from .model import UserError

        print(UserError(str(error), error.hint), file=sys.stderr)
        return CONTENT_ERROR
    except KeyboardInterrupt:
        # Not success: `sitegen build && publish` must not publish a build that was stopped.
        # (serve stops on Ctrl-C by design, and returns 0 itself.)
        print("sitegen: interrupted", file=sys.stderr)
        return INTERRUPTED


def _parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The command line's parser. Only the command asked for (the first word that is not an
    option: the top level has none that takes a value) gets its options; the others get their
    names and help, all that `sitegen --help` and a wrong command's message show. Every
    command's options would cost each run 3 ms."""
    parser = argparse.ArgumentParser(
        prog="sitegen",
        description="Build static sites of annotated news articles.")
    parser.add_argument("--version", action="version", version=f"sitegen {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    asked = next((word for word in argv if not word.startswith("-")), None)
    for name, (help_text, options) in VERBS.items():
        verb = verbs.add_parser(name, help=help_text)
        if name == asked:
            options(verb)
    return parser


def _build_options(build: argparse.ArgumentParser) -> None:
    _site_options(build)
    build.add_argument("--out", type=Path, help="output folder (default: ROOT/public)")
    build.add_argument("--base-url", help="the address the site is published at")
    build.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    build.add_argument("--profile", action="store_true",
                       help="print the time spent in each stage: read, parse, anchor, assemble, render "
                            "(with writing pages), write (swapping the new site in)")
    build.add_argument("--force", action="store_true",
                       help="replace the output folder even if it holds files sitegen did not write")
    build.add_argument("--no-cache", dest="cache", action="store_false",
                       help="build everything from scratch, without reading or writing .sitegen-cache/")
    build.set_defaults(run=run_build)


def _check_options(check: argparse.ArgumentParser) -> None:
    _site_options(check)
    check.add_argument("--links", action="store_true",
                       help="also check every internal link and #fragment, served under the base path")
    check.set_defaults(run=run_check, base_url=None)


def _serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    serve.add_argument("--drafts", action="store_true", help="show drafts too")
    serve.add_argument("--open", action="store_true", help="open the site in the default browser")
    serve.add_argument("--poll", action="store_true",
                       help="poll for changes (for file systems without inotify: network drives, WSL)")
    serve.add_argument("--base-path", metavar="PATH",
                       help="serve the site under PATH (default: the path of base_url, as published; "
                            "'/' serves it at the root)")
    serve.set_defaults(run=run_serve)


def _deploy_options(deploy: argparse.ArgumentParser) -> None:
    deploy.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
    deploy.add_argument("--remote", default="origin", help="the remote to push to (default: origin)")
    deploy.add_argument("--branch", default="gh-pages", help="the branch to publish on (default: gh-pages)")
    deploy.add_argument("--message", "-m", help="the deploy commit's message")
    deploy.add_argument("--no-push", dest="push", action="store_false",
                        help="commit on the local branch only")
    deploy.add_argument("--cname", type=_domain, metavar="DOMAIN",
                        help="the site's custom domain, written to CNAME (default: cname in the config)")
    deploy.add_argument("--jobs", "-j", type=_positive, default=default_jobs(), metavar="N",
                        help="processes to render with (default: one per core)")
    deploy.set_defaults(run=run_deploy)


def _init_options(init: argparse.ArgumentParser) -> None:
    init.add_argument("folder", metavar="DIR", type=Path, help="the new site's folder")
    init.set_defaults(run=run_init)


def _new_options(new: argparse.ArgumentParser) -> None:
    new.add_argument("seed", metavar="SEED", help="a seed's file name in seeds/")
    new.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
    new.add_argument("--slug", help="the page's slug (default: from the seed's name)")
    new.set_defaults(run=run_new)


# Each command: its help in `sitegen --help`, and what adds its options to its parser.
VERBS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "build": ("build the site into public/", _build_options),
    "check": ("run every check of build, write nothing", _check_options),
    "serve": ("preview the site, rebuilding and reloading on save", _serve_options),
    "deploy": ("build what is committed, verify it, and publish it on a branch for GitHub Pages",
               _deploy_options),
    "init": ("start a new site in a folder, ready to build and publish", _init_options),
    "new": ("start an annotation file for a seed", _new_options),
}


def _site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
    parser.add_argument("--drafts", action="store_true", help="build drafts too")
    parser.add_argument("--jobs", "-j", type=_positive, default=default_jobs(), metavar="N",
                        help="processes to render with (default: one per core)")


def run_build(arguments: argparse.Namespace) -> int:
    """The build command. It runs without the garbage collector: a build makes hundreds of
    thousands of objects that live as long as it does (records, citations, the lists' data) and
    no cycles of garbage, and the collector's full passes walked them all again each time they
    grew by a quarter (1.6 s of a 100,000-article build, in the main process alone). The worker
    processes collect as usual (see parallel)."""
    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()
    try:
        root = _site_root(arguments.root)
        out = _output_folder(root, arguments.out)
        ahead = look_ahead(root, out) if arguments.cache else None
        try:
            return _build(arguments, root, out, started, ahead)
        finally:
            if ahead is not None:
                ahead.close()
    finally:
        # Given back to a caller that goes on (a test, a program using sitegen), whose first
        # collection then walks what the build left; not to run(), which leaves at once.
        if collecting and not _leaving:
            gc.enable()


def _build(arguments: argparse.Namespace, root: Path, out: Path, started: float, ahead: Ahead | None) -> int:
    from . import incremental
    from .build import Options
    from .model import UserError
    from .output import UnsafePathError

    options = Options(arguments.base_url, arguments.drafts, arguments.jobs)
    stages = Stages()
    terminal = sys.stdout.isatty() and not arguments.quiet
    progress = TerminalProgress(sys.stdout) if terminal else NO_PROGRESS
    cache = arguments.cache and cachefile.usable(root)
    try:
        try:
            if cache:
                result = incremental.build(root, out, options, arguments.force, stages, progress, ahead)
            else:
                result = incremental.build_from_scratch(root, out, options, arguments.force, stages, progress)
        finally:
            progress.clear()
    except (UserError, UnsafePathError, OSError) as error:
        print(_output_error(error, out), file=sys.stderr)
        return CONTENT_ERROR
    report(result.problems)
    if result.site is None or _has_errors(result.problems):
        return CONTENT_ERROR
    site = result.site
    cached = f" ({result.kept:,} cached, {result.rendered:,} rendered)" if cache else ""
    if not arguments.quiet:
        seconds = time.perf_counter() - started
        print(f"Built {_count(site.articles, 'article')}, {_count(site.notes, 'note')}, "
              f"{_count(site.contexts, 'context entry', 'context entries')} "
              f"into {_shown(out)} in {seconds:.2f} s{cached}")
    if arguments.profile:
        print(stages.table())
    return OK


def run_check(arguments: argparse.Namespace) -> int:
    from .build import Options, build_from_files, read_sources

    root = _site_root(arguments.root)
    problems: list[Problem] = []
    site, build_problems = build_from_files(read_sources(root, problems),
                                            Options(None, arguments.drafts, arguments.jobs))
    problems += build_problems
    report(problems)
    if site is None or _has_errors(problems):
        return CONTENT_ERROR
    checked = (f"{_count(site.articles, 'article')}, {_count(site.notes, 'note')}, "
               f"{_count(site.contexts, 'context entry', 'context entries')}")
    if arguments.links:
        from .links import check_links  # html.parser: only `check --links` needs it

        broken = check_links(site.files, site.base_path, site.origins, arguments.jobs)
        for link in broken:
            print(link.line(), file=sys.stderr)
        if broken:
            print(f"{_count(len(broken), 'broken link')} (pages served under {site.base_path})",
                  file=sys.stderr)
            return CONTENT_ERROR
        pages = sum(path.endswith(".html") for path in site.files)
        checked += f" and the links of {_count(pages, 'page')} under {site.base_path}"
    print(f"Checked {checked}: no errors")
    return OK


def run_deploy(arguments: argparse.Namespace) -> int:
    from .deploy import Request, VerificationError, deploy
    from .model import UserError
    from .output import UnsafePathError, write_site

    root = _site_root(arguments.root)
    out = root / "public"
    request = Request(root, arguments.remote, arguments.branch, arguments.message, arguments.push,
                      arguments.cname, arguments.jobs)
    try:
        done = deploy(request, out, lambda files: write_site(files, out),
                      lambda text: print(text, file=sys.stderr))
    except VerificationError as failure:
        for link in failure.built.broken:
            print(link.line(), file=sys.stderr)
        print(failure, file=sys.stderr)
        return CONTENT_ERROR
    except (UserError, UnsafePathError, OSError) as error:
        print(_output_error(error, out), file=sys.stderr)
        return CONTENT_ERROR
    where = (f"{arguments.remote}/{arguments.branch}" if arguments.push
             else f"the local branch {arguments.branch}")
    if done.new_commit:
        print(f"Deployed {_count(done.files, 'file')} as commit {done.commit[:12]} to {where}")
    else:
        print(f"Nothing new to deploy: {where} already holds this site (commit {done.commit[:12]})")
    return OK


def run_init(arguments: argparse.Namespace) -> int:
    from .starter import init_site

    target = (Path.cwd() / arguments.folder).resolve()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{arguments.folder}: exists and is not a folder")
    written, skipped = init_site(target)
    for path in skipped:
        print(f"sitegen: kept {_shown(path)}: it exists, not overwriting it", file=sys.stderr)
    print(f"Started a site in {_shown(target)} ({_count(len(written), 'file')} written). Next:\n"
          f"  cd {_shown(target)} && sitegen build      # then open public/index.html\n"
          f"  sitegen serve                            # preview while you write\n"
          f"  set base_url in sitegen.toml, push to GitHub, and choose Settings -> Pages -> "
          f"Source: GitHub Actions")
    return OK


def run_serve(arguments: argparse.Namespace) -> int:
    from .serve import serve  # watchdog and the HTTP server are only needed here

    root = _site_root(arguments.root)
    return serve(root, arguments.host, arguments.port, arguments.drafts, arguments.open, arguments.poll,
                 arguments.base_path)


def run_new(arguments: argparse.Namespace) -> int:
    from .scaffold import new_annotation

    root = _site_root(arguments.root)
    path, problems = new_annotation(root, arguments.seed, arguments.slug)
    report(problems)
    if path is None:
        return CONTENT_ERROR
    print(f"Wrote {_shown(path)}: add a note under a heading that quotes the article")
    return OK


def report(problems: list[Problem]) -> None:
    ordered = sorted(problems, key=lambda problem: problem.order)
    for problem in ordered:
        print(problem, file=sys.stderr)
    errors = sum(problem.severity == "error" for problem in problems)
    if errors:
        print(f"{_count(errors, 'error')}: nothing was written", file=sys.stderr)


def _has_errors(problems: list[Problem]) -> bool:
    return any(problem.severity == "error" for problem in problems)


OUTPUT_HINTS = {
    errno.ENOSPC: "free some disk space, then build again",
    errno.EDQUOT: "free some disk space, then build again",
    errno.EROFS: "the disk is read-only: choose a writable folder with --out",
    errno.EACCES: "check the permissions of the output folder and the folder that holds it, or "
                  "choose another with --out",
    errno.EPERM: "check the permissions of the output folder and the folder that holds it, or "
                 "choose another with --out",
    errno.EXDEV: "the output folder is a mount point or on another disk than the folder that holds "
                 "it, so it cannot be swapped in whole: build into a folder inside it with --out",
    errno.EBUSY: "the output folder is a mount point or in use, so it cannot be swapped in whole: "
                 "build into a folder inside it with --out",
}


def _output_error(error: UserError | UnsafePathError | OSError, out: Path) -> str:
    """What stopped the site from being written: a reason of the user's, a path the site may not
    write, or the disk."""
    from .model import UserError
    from .output import UnsafePathError

    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, UnsafePathError):
        return f"sitegen: error: {error}"
    return output_failure(error, out)


def output_failure(error: OSError, out: Path) -> str:
    """Why the site could not be written, for the user: the previous output is untouched."""
    reason = error.strerror or str(error)
    if error.filename and Path(error.filename) != out:
        reason += f" ({_shown(Path(error.filename))})"
    text = f"sitegen: error: cannot write the site to {_shown(out)}: {reason}; the previous site is untouched"
    hint = OUTPUT_HINTS.get(error.errno or 0)
    return f"{text}\n  hint: {hint}" if hint else text


def _site_root(root: Path) -> Path:
    if not root.is_dir():
        raise UsageError(f"--root {root}: no such folder")
    return root.resolve()


def _output_folder(root: Path, out: Path | None) -> Path:
    """Refuse outputs whose replacement would delete sources or a home folder."""
    target = (root / "public") if out is None else (Path.cwd() / out).resolve()
    protected = {root, Path.home().resolve(), Path("/")}
    protected |= {(root / name).resolve() for name in ("seeds", "content", "templates", "static")}
    if target in protected or target in root.parents or root.is_relative_to(target):
        raise UsageError(f"--out {out}: refusing to replace {target}, which holds the site's "
                         "sources or more; choose an empty or build-only folder such as public/")
    for source in ("seeds", "content", "templates", "static"):
        if target.is_relative_to((root / source).resolve()):
            raise UsageError(f"--out {out}: refusing to write inside {source}/")
    return target


def _domain(text: str) -> str:
    from .config import is_domain

    if not is_domain(text):
        raise argparse.ArgumentTypeError(f"expected a bare domain such as news.example.org, not {text!r}")
    return text


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else (plural or singular + 's')}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


if __name__ == "__main__":
    run()

"""`sitegen deploy`: publish the committed site as one new commit on a branch (gh-pages).

The site is built from the files of HEAD, not from the working tree, so what is published is what
is committed: uncommitted changes are neither published nor touched. The output is verified
(every internal link and fragment) before anything is written. The commit is made with git
plumbing (hash-object, a temporary index, write-tree, commit-tree, update-ref): the working tree,
the index and the current branch stay as they were. Its tree is exactly the built site, and its
parent is the branch's previous tip, so the branch keeps the history of deploys.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .build import Options, build_from_files, read_sources
from .links import BrokenLink, check_links
from .model import Problem, Site, UserError

ZERO = "0" * 40
# Variables that would point git at another repository, work tree or index than the site's.
FOREIGN_GIT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
               "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX")
CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")  # https://user:token@host/...
PREVIEW_MARKERS = (b"/__sitegen/", b"http://localhost", b"http://127.0.0.1", b"http://[::1]")
FALLBACK_IDENTITY = {"GIT_AUTHOR_NAME": "sitegen", "GIT_AUTHOR_EMAIL": "sitegen@localhost",
                     "GIT_COMMITTER_NAME": "sitegen", "GIT_COMMITTER_EMAIL": "sitegen@localhost"}


class DeployError(UserError):
    """A reason not to deploy."""


@dataclass(frozen=True)
class Request:
    root: Path
    remote: str = "origin"
    branch: str = "gh-pages"
    message: str | None = None
    push: bool = True
    cname: str | None = None
    jobs: int = 1


@dataclass(frozen=True)
class Built:
    """The site built from HEAD and checked, ready to commit; or why it is not."""

    site: Site | None
    problems: list[Problem]
    broken: list[BrokenLink]


def redact(text: str) -> str:
    """The text with any credentials in URLs replaced: tokens never reach a message."""
    return CREDENTIALS.sub("***@", text)


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in FOREIGN_GIT}
    return {**environment, **(extra or {})}


class Git:
    """git, run in one repository; raises DeployError with git's own words on failure."""

    def __init__(self, top: Path) -> None:
        self.top = top

    def run(self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(["git", "-C", str(self.top), *args], input=stdin, capture_output=True,
                              env=git_environment(env), check=False)
        if check and done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise DeployError(f"git {args[0]} failed: {redact(said)}")
        return done

    def text(self, *args: str, **kwargs: object) -> str:
        return self.run(*args, **kwargs).stdout.decode("utf-8", "replace").strip()  # type: ignore[arg-type]

    def commit_of(self, ref: str) -> str | None:
        done = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if done.returncode != 0:
            return None
        return done.stdout.decode().strip() or None


def find_repository(root: Path) -> Git:
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                              capture_output=True, env=git_environment(), check=False)
    except FileNotFoundError:
        raise DeployError("git is not installed", "install git, then run sitegen deploy again") from None
    if done.returncode != 0:
        raise DeployError(f"{root} is not in a git repository",
                          "run `git init` and commit the site first; deploy publishes what is committed")
    return Git(Path(done.stdout.decode().strip()))


def check_remote(git: Git, remote: str) -> None:
    if git.run("remote", "get-url", remote, check=False).returncode != 0:
        known = git.text("remote").split()
        hint = (f"known remotes: {', '.join(known)}; pass --remote NAME" if known else
                f"add one: git remote add {remote} URL, or deploy with --no-push")
        raise DeployError(f"no git remote named '{remote}'", hint)


def uncommitted(git: Git, root: Path) -> list[str]:
    """The site's files that differ from HEAD (changed, staged, or new and not ignored)."""
    done = git.run("status", "--porcelain", "--untracked-files=all", "--", str(root))
    return [line[3:] for line in done.stdout.decode("utf-8", "replace").splitlines() if line]


def committed_sources(git: Git, root: Path) -> dict[str, bytes]:
    """The site's source files as HEAD has them, read through a temporary checkout of the tree."""
    if git.commit_of("HEAD") is None:
        raise DeployError("the repository has no commits yet",
                          "commit the site first: deploy publishes what is committed")
    prefix = root.resolve().relative_to(git.top.resolve()).as_posix()
    paths = [] if prefix == "." else [prefix]
    archive = git.run("archive", "--format=tar", "HEAD", "--", *paths).stdout
    with tempfile.TemporaryDirectory(prefix="sitegen-deploy-") as folder:
        try:
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                    tar.extractall(folder, filter="data")
                else:
                    tar.extractall(folder)
        except (tarfile.TarError, OSError) as error:
            raise DeployError(f"cannot read the committed site: {error}",
                              "a committed symbolic link may point out of the site: commit the "
                              "file itself instead") from None
        problems: list[Problem] = []
        files = read_sources(Path(folder, prefix), problems)
    errors = [str(problem) for problem in problems if problem.severity == "error"]
    if errors:
        raise DeployError("cannot read the committed site:\n" + "\n".join(errors),
                          "fix the files named, commit, and deploy again")
    return files


def build_committed(git: Git, request: Request, files: dict[str, bytes], parent: str | None) -> Built:
    """Build with the configured base_url, add CNAME, and check every internal link."""
    site, problems = build_from_files(files, Options(None, False, request.jobs))
    if site is None:
        return Built(None, problems, [])
    if request.cname:
        site.files["CNAME"] = f"{request.cname}\n".encode()
    elif "CNAME" not in site.files and parent:  # a domain set in GitHub's settings lives only there
        previous = git.run("show", f"{parent}:CNAME", check=False)
        if previous.returncode == 0 and previous.stdout.strip():
            site.files["CNAME"] = previous.stdout
    site.files.setdefault(".nojekyll", b"")
    return Built(site, problems, check_links(site.files, site.base_path, site.origins, request.jobs))


def refuse_preview_output(files: Mapping[str, bytes]) -> None:
    """A site that points at a local preview server is never published."""
    for path in sorted(files):
        if not path.endswith((".html", ".xml", ".json", ".txt")):
            continue
        found = next((marker for marker in PREVIEW_MARKERS if marker in files[path]), None)
        if found:
            raise DeployError(f"not deployed: public/{path} holds {found.decode()!r}, "
                              "an address of a local preview",
                              'set base_url in sitegen.toml to the published address, e.g. '
                              '"https://user.github.io/repo/"')


def fetch_branch(git: Git, remote: str, branch: str) -> str | None:
    """The remote's tip of the branch (fetched now), or None when it has no such branch."""
    tracking = f"refs/remotes/{remote}/{branch}"
    done = git.run("fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}", check=False)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace")
        if "couldn't find remote ref" not in said:
            raise DeployError(f"cannot fetch {branch} from '{remote}': {redact(said.strip())}",
                              "check the remote's URL and your access to it")
        return None
    return git.commit_of(tracking)


def choose_parent(git: Git, local: str | None, remote: str | None) -> str | None:
    """The branch's previous tip: the remote's when the local branch is behind it or absent."""
    if local and remote and local != remote:
        ahead = git.run("merge-base", "--is-ancestor", local, remote, check=False).returncode == 0
        return remote if ahead else local
    return local or remote


def write_tree(git: Git, out: Path) -> str:
    """A tree of exactly the files in out, byte for byte (no filters), made in a temporary index."""
    paths = sorted(path.relative_to(out).as_posix() for path in out.rglob("*")
                   if path.is_file() and not path.is_symlink())
    names = "".join(f"{out / path}\n" for path in paths).encode()
    hashes = git.text("hash-object", "-w", "--no-filters", "--stdin-paths", stdin=names).split()
    entries = "".join(f"100644 {sha}\t{path}\n" for sha, path in zip(hashes, paths, strict=True))
    with tempfile.TemporaryDirectory(prefix="sitegen-index-") as folder:
        env = {"GIT_INDEX_FILE": str(Path(folder, "index"))}
        git.run("update-index", "--add", "--index-info", stdin=entries.encode(), env=env)
        return git.text("write-tree", env=env)


def commit(git: Git, tree: str, parent: str | None, message: str) -> str:
    identity = {} if git.run("var", "GIT_COMMITTER_IDENT", check=False).returncode == 0 else FALLBACK_IDENTITY
    parents = ["-p", parent] if parent else []
    return git.text("commit-tree", tree, *parents, "-m", message, env=identity)


def default_message(git: Git, dirty: bool) -> str:
    head = git.text("rev-parse", "--short", "HEAD")
    subject = git.text("log", "-1", "--format=%s", "HEAD")
    return f"Deploy {head}: {subject}" + (" (uncommitted changes not included)" if dirty else "")


class VerificationError(DeployError):
    """The built site has errors or broken links: nothing was committed or pushed."""

    def __init__(self, built: Built) -> None:
        errors = sum(problem.severity == "error" for problem in built.problems)
        what = f"{errors} error(s)" if built.site is None else f"{len(built.broken)} broken link(s)"
        super().__init__(f"not deployed: {what}; nothing was committed or pushed",
                         "fix them and commit, then deploy again")
        self.built = built


@dataclass(frozen=True)
class Deployed:
    commit: str
    parent: str | None
    files: int
    new_commit: bool
    pushed: bool


def deploy(request: Request, out: Path, write: Callable[[dict[str, bytes]], None],
           warn: Callable[[str], None] = print) -> Deployed:
    """Build HEAD's site, verify it, write it to `out`, commit it on the branch, push it.

    `write(files)` puts the verified files in `out` (all or nothing); `warn(text)` tells the user
    something that does not stop the deploy.
    """
    git = find_repository(request.root)
    if git.text("rev-parse", "--abbrev-ref", "HEAD") == request.branch:
        raise DeployError(f"you are on the branch {request.branch}, which deploy replaces",
                          "switch to the branch that holds the site's sources")
    if request.push:
        check_remote(git, request.remote)
    changes = uncommitted(git, request.root)
    if changes:
        shown = ", ".join(changes[:5]) + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")
        warn(f"sitegen: warning: uncommitted changes are not deployed ({shown}); "
             "deploy publishes what is committed")
    local = git.commit_of(f"refs/heads/{request.branch}")
    remote = fetch_branch(git, request.remote, request.branch) if request.push else None
    parent = choose_parent(git, local, remote)
    built = build_committed(git, request, committed_sources(git, request.root), parent)
    for problem in sorted(built.problems, key=lambda problem: problem.order):
        warn(str(problem))
    if built.site is None or built.broken:
        raise VerificationError(built)
    files = built.site.files
    refuse_preview_output(files)
    write(files)
    tree = write_tree(git, out)  # public/ as written: the tree is exactly the folder
    if parent and git.text("rev-parse", f"{parent}^{{tree}}") == tree:
        tip, new_commit = parent, False  # the same site as the last deploy: no empty commit
    else:
        message = request.message or default_message(git, bool(changes))
        tip, new_commit = commit(git, tree, parent, message), True
    if tip != local:
        git.run("update-ref", "-m", "sitegen deploy", f"refs/heads/{request.branch}", tip, local or ZERO)
    pushed = False
    if request.push and tip != remote:
        branch = f"refs/heads/{request.branch}"
        done = git.run("push", "--quiet", request.remote, f"{branch}:{branch}", check=False)
        if done.returncode != 0:
            said = redact(done.stderr.decode("utf-8", "replace").strip())
            raise DeployError(f"push to '{request.remote}' failed: {said}",
                              f"the new commit {tip[:12]} is on the local branch {request.branch}; "
                              "nothing else changed. Fix the cause, then: "
                              f"git push {request.remote} {request.branch}")
        pushed = True
    return Deployed(tip, parent, len(files), new_commit, pushed)

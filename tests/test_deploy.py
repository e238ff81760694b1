"""`sitegen deploy` against a real local remote (a bare repository in a temporary folder)."""

import os
import subprocess
from pathlib import Path

import pytest

from sitegen.cli import main

from .conftest import annotation, site_files, write_site

IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org"}
NOTE = '## "Hainan" #1\nAn island. See [[hainan]].'
CONTEXT = "---\ntitle: Hainan\nsummary: An island province.\n---\nChina's southernmost province."


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                          env={**os.environ, **IDENTITY}, check=True)
    return done.stdout.strip()


def commit_all(folder: Path, message: str = "Edit") -> None:
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path):
    """A site in a git repository whose 'origin' is a bare repository beside it."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    site = write_site(tmp_path / "site", site_files({
        "content/a.md": annotation(NOTE, front="tags: [Asia]\n"),
        "content/context/hainan.md": CONTEXT,
        ".gitignore": "public/\n",
    }))
    git(site, "init", "-q", "-b", "main")
    git(site, "remote", "add", "origin", str(remote))
    commit_all(site, "Start")
    return site, remote


def tree_files(repository: Path, ref: str) -> dict[str, bytes]:
    names = git(repository, "ls-tree", "-r", "--name-only", ref).splitlines()
    return {name: subprocess.run(["git", "-C", str(repository), "show", f"{ref}:{name}"],
                                 capture_output=True, check=True).stdout for name in names}


def disk_files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in folder.rglob("*") if path.is_file()}


def user_state(site: Path) -> tuple[str, str, str, str]:
    return (git(site, "rev-parse", "HEAD"), git(site, "symbolic-ref", "HEAD"),
            git(site, "status", "--porcelain"), git(site, "ls-files", "--stage"))


def test_deploy_publishes_public_as_one_commit_and_leaves_the_user_where_they_were(repo, capsys):
    site, remote = repo
    (site / "content" / "draft-notes.txt").write_text("uncommitted work")  # untracked: kept, not used
    before = user_state(site)
    assert main(["deploy", "--root", str(site), "--cname", "news.example.org"]) == 0
    assert "Deployed" in capsys.readouterr().out
    published = tree_files(remote, "gh-pages")
    assert published == disk_files(site / "public")  # byte for byte
    assert published[".nojekyll"] == b"" and published["CNAME"] == b"news.example.org\n"
    assert "a/index.html" in published and "context/hainan/index.html" in published
    assert user_state(site) == before
    assert (site / "content" / "draft-notes.txt").read_text() == "uncommitted work"

    # a second deploy, nothing changed: no new commit (an empty deploy commit would only add noise)
    first = git(remote, "rev-parse", "gh-pages")
    assert main(["deploy", "--root", str(site)]) == 0
    assert "Nothing new to deploy" in capsys.readouterr().out
    assert git(remote, "rev-parse", "gh-pages") == first
    assert tree_files(remote, "gh-pages")["CNAME"] == b"news.example.org\n"  # never dropped

    # a committed edit: one new commit whose parent is the previous deploy
    (site / "content" / "a.md").write_text(annotation('## "Hainan" #1\nEdited. See [[hainan]].'))
    commit_all(site)
    assert main(["deploy", "--root", str(site), "--message", "Second deploy"]) == 0
    second = git(remote, "rev-parse", "gh-pages")
    assert git(remote, "rev-parse", "gh-pages^") == first
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == "Second deploy"
    assert b"Edited." in tree_files(remote, "gh-pages")["a/index.html"]
    assert tree_files(remote, "gh-pages")["CNAME"] == b"news.example.org\n"  # kept from the branch
    assert git(site, "rev-parse", "gh-pages") == second


def test_deploy_publishes_what_is_committed_and_keeps_uncommitted_changes(repo, capsys):
    site, remote = repo
    edited = annotation('## "Hainan" #1\nNot committed yet. See [[hainan]].')
    (site / "content" / "a.md").write_text(edited)
    assert main(["deploy", "--root", str(site)]) == 0
    assert "uncommitted changes are not deployed (content/a.md)" in capsys.readouterr().err
    page = tree_files(remote, "gh-pages")["a/index.html"]
    assert b"An island." in page and b"Not committed yet" not in page
    assert (site / "content" / "a.md").read_text() == edited
    assert git(site, "status", "--porcelain") == "M content/a.md"


def test_a_broken_internal_link_stops_the_deploy_before_anything_is_committed(repo, capsys):
    site, remote = repo
    (site / "content" / "a.md").write_text(annotation('## "Hainan" #1\nSee [the map](../maps/index.html).'))
    commit_all(site)
    assert main(["deploy", "--root", str(site)]) == 1
    err = capsys.readouterr().err
    assert 'public/a/index.html: broken link "../maps/index.html" (from content/a.md)' in err
    assert "nothing was committed or pushed" in err
    assert git(remote, "branch", "--list") == ""  # nothing pushed
    assert git(site, "branch", "--list", "gh-pages") == ""  # nor committed locally
    assert not (site / "public").exists()  # nor written


def test_no_push_commits_locally_only(repo, capsys):
    site, remote = repo
    assert main(["deploy", "--root", str(site), "--no-push"]) == 0
    assert "the local branch gh-pages" in capsys.readouterr().out
    assert git(site, "rev-parse", "--verify", "gh-pages")
    assert git(remote, "branch", "--list") == ""


def test_deploy_outside_a_repository_or_without_the_remote_fails_clearly(tmp_path, repo, capsys):
    plain = write_site(tmp_path / "plain", site_files({"content/a.md": annotation(NOTE.split(" See")[0])}))
    assert main(["deploy", "--root", str(plain)]) == 1
    assert "is not in a git repository" in capsys.readouterr().err
    site, _ = repo
    assert main(["deploy", "--root", str(site), "--remote", "upstream"]) == 1
    err = capsys.readouterr().err
    assert "no git remote named 'upstream'" in err and "known remotes: origin" in err


def test_a_rejected_push_names_the_local_commit_and_changes_nothing_else(repo, capsys):
    site, remote = repo
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = user_state(site)
    assert main(["deploy", "--root", str(site)]) == 1
    err = capsys.readouterr().err
    local = git(site, "rev-parse", "gh-pages")
    assert "push to 'origin' failed" in err and f"the new commit {local[:12]} is on the local branch" in err
    assert git(remote, "branch", "--list") == ""
    assert user_state(site) == before


def test_deploy_from_a_fresh_clone_continues_the_remote_branch(repo, tmp_path):
    site, remote = repo
    assert main(["deploy", "--root", str(site), "--cname", "news.example.org"]) == 0
    first = git(remote, "rev-parse", "gh-pages")
    git(site, "push", "-q", "origin", "main")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(remote), str(clone)], check=True)
    (clone / "content" / "a.md").write_text(annotation('## "Hainan" #1\nFrom the clone. See [[hainan]].'))
    commit_all(clone)
    assert main(["deploy", "--root", str(clone)]) == 0
    assert git(remote, "rev-parse", "gh-pages^") == first  # history kept, no rejected push
    assert tree_files(remote, "gh-pages")["CNAME"] == b"news.example.org\n"


def test_a_token_in_the_remote_url_never_appears_in_a_message(repo, capsys):
    site, _ = repo
    git(site, "remote", "set-url", "origin", "https://deploy:s3cr3t-t0ken@127.0.0.1:9/none.git")
    assert main(["deploy", "--root", str(site)]) == 1
    err = capsys.readouterr().err
    assert "cannot fetch gh-pages from 'origin'" in err and "s3cr3t-t0ken" not in err


def test_redact_hides_credentials_in_any_url_git_prints():
    from sitegen.deploy import redact

    said = "fatal: unable to access 'https://x-access-token:ghp_abc123@github.com/u/r.git/': 403"
    assert redact(said) == "fatal: unable to access 'https://***@github.com/u/r.git/': 403"


def test_an_inherited_git_dir_or_work_tree_is_ignored(repo, tmp_path, monkeypatch):
    site, remote = repo
    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert main(["deploy", "--root", str(site)]) == 0
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_WORK_TREE")
    assert "a/index.html" in tree_files(remote, "gh-pages")
    assert git(other, "branch", "--list") == ""


def test_a_site_pointing_at_a_local_preview_is_never_pushed(repo, capsys):
    site, remote = repo
    (site / "sitegen.toml").write_text('title = "Test site"\nbase_url = "http://localhost:8000/"\n')
    commit_all(site)
    assert main(["deploy", "--root", str(site)]) == 1
    err = capsys.readouterr().err
    assert "a local preview" in err and "http://localhost" in err
    assert git(remote, "branch", "--list") == ""

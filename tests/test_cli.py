"""The `sitegen` command from the outside: verbs, options, exit codes, what is written where."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .test_errors import (
    ANNOTATION_PATH,
    REPO,
    SEED_NAME,
    annotation,
    make_site,
    sitegen,
    snapshot,
)

PORT_SEED = "Ships returned to the port at dawn. Crews cheered.\n\nThe quay was busy by noon.\n"
SUMMARY = re.compile(r"Built (\d+) articles?, (\d+) notes?, (\d+) context (?:entry|entries) "
                     r"into (.+) in \d+\.\d+ s(?: \([\d,]+ cached, [\d,]+ rendered\))?")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A good site, not built: one annotated seed (one note), one plain seed, one context entry."""
    return make_site(tmp_path / "site", {"seeds/103_Port.txt": PORT_SEED})


def front_matter(text: str) -> dict:
    assert text.startswith("---\n"), text
    return yaml.safe_load(text.split("---\n")[1])


# --- build -----------------------------------------------------------------------------------

def test_build_prints_a_one_line_summary_with_counts_and_seconds(root):
    result = sitegen("build", cwd=root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    found = SUMMARY.fullmatch(lines[0])
    assert found, lines[0]
    assert found.groups()[:3] == ("2", "1", "1")
    assert "Traceback" not in result.stderr


def test_a_summary_printed_into_a_closed_pipe_ends_the_command_as_python_would(root):
    """The command leaves without tearing the interpreter down (cli.run), once its output is
    flushed: a reader that went away still makes the exit code 120, with no traceback."""
    reader, writer = os.pipe()
    os.close(reader)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    try:
        result = subprocess.run([sys.executable, "-m", "sitegen", "build"], cwd=root, env=env, stdout=writer,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(writer)
    assert result.returncode == 120
    assert "Traceback" not in result.stderr
    assert (root / "public" / "index.html").is_file()


def test_a_build_runs_without_the_collector_and_gives_it_back_to_its_caller(root, monkeypatch):
    from sitegen import cli, incremental

    seen = []
    real = incremental.build

    def build(*arguments, **options):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*arguments, **options)

    monkeypatch.setattr(incremental, "build", build)
    assert gc.isenabled()
    assert cli.main(["build", "--root", str(root), "--quiet", "--jobs", "1"]) == 0
    assert seen == [False] and gc.isenabled()


def test_the_program_leaves_after_a_build_without_giving_the_collector_back(root, monkeypatch):
    """Its first pass would walk every object the build left (0.8 s after 100,000 articles)."""
    from sitegen import cli

    left = []
    real_exit, test_process = os._exit, os.getpid()

    def leave(code: int) -> None:
        if os.getpid() != test_process:  # a process the build forked (the look-ahead) ends as
            real_exit(code)  # it would: raising here, it would go on to run the rest of the tests
        left.append((code, gc.isenabled()))
        raise SystemExit(code)

    monkeypatch.setattr(cli.os, "_exit", leave)
    monkeypatch.setattr(cli, "_leaving", False)
    monkeypatch.setattr(sys, "argv", ["sitegen", "build", "--root", str(root), "--quiet", "--jobs", "1"])
    try:
        with pytest.raises(SystemExit):
            cli.run()
        assert left == [(0, False)]
    finally:
        gc.enable()


def test_out_writes_the_site_into_the_given_folder_and_not_into_public(root):
    result = sitegen("build", "--out", "dist", cwd=root)
    assert result.returncode == 0, result.stderr
    assert (root / "dist" / "index.html").is_file()
    assert (root / "dist" / "harbour" / "index.html").is_file()
    assert not (root / "public").exists()


def test_base_url_option_changes_the_absolute_urls_of_the_feed(root):
    default = sitegen("build", "--out", "default", cwd=root)
    assert default.returncode == 0, default.stderr
    assert "https://example.org/site/harbour/" in (root / "default" / "feed.xml").read_text()

    result = sitegen("build", "--base-url", "https://news.example.com/port/", cwd=root)
    assert result.returncode == 0, result.stderr
    feed = (root / "public" / "feed.xml").read_text(encoding="utf-8")
    assert "https://news.example.com/port/harbour/" in feed
    assert "https://news.example.com/port/feed.xml" in feed
    assert "example.org" not in feed


@pytest.mark.parametrize("out", [".", "..", "seeds"])
def test_out_that_would_replace_sources_is_a_usage_error_that_deletes_nothing(root, out):
    assert sitegen("build", cwd=root).returncode == 0
    before = snapshot(root.parent)
    result = sitegen("build", "--out", out, cwd=root)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("sitegen: error: --out"), result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(root.parent) == before


def test_out_naming_the_site_root_from_elsewhere_is_a_usage_error_that_deletes_nothing(root):
    assert sitegen("build", cwd=root).returncode == 0
    before = snapshot(root.parent)
    result = sitegen("build", "--root", root.name, "--out", root, cwd=root.parent)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("sitegen: error: --out"), result.stderr
    assert snapshot(root.parent) == before


def test_plain_seed_is_published_at_its_file_name_slug_titled_by_its_first_sentence(root):
    result = sitegen("build", cwd=root)
    assert result.returncode == 0, result.stderr
    page = (root / "public" / "103-port" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Ships returned to the port at dawn.</h1>" in page
    assert "Crews cheered.</h1>" not in page


# --- check -----------------------------------------------------------------------------------

def test_check_on_a_good_site_exits_0_and_writes_nothing(root):
    before = snapshot(root)
    result = sitegen("check", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "no errors" in result.stdout
    assert not (root / "public").exists()
    assert snapshot(root) == before
    assert sorted(p.name for p in root.iterdir()) == ["content", "seeds", "sitegen.toml"]


def test_check_on_a_bad_site_exits_1_reports_the_error_and_writes_nothing(root):
    (root / ANNOTATION_PATH).write_text(annotation('## "an incident like one in 2002"\nX.\n'))
    before = snapshot(root)
    result = sitegen("check", cwd=root)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert f"{ANNOTATION_PATH}:5:4: error: quote" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "public").exists()
    assert snapshot(root) == before


# --- new -------------------------------------------------------------------------------------

@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A site whose one seed has no annotation yet."""
    return make_site(tmp_path / "site", annotated=False)


def test_new_writes_an_annotation_naming_the_seed_and_its_first_sentence(bare):
    result = sitegen("new", SEED_NAME, cwd=bare)
    assert result.returncode == 0, result.stderr
    written = bare / "content" / "101-harbour.md"
    fields = front_matter(written.read_text(encoding="utf-8"))
    assert fields["seed"] == SEED_NAME
    assert fields["title"] == "The harbour reopened on Monday after the storm."
    assert fields["draft"] is True


def test_new_annotation_builds_as_a_draft(bare):
    assert sitegen("new", SEED_NAME, cwd=bare).returncode == 0
    plain = sitegen("build", cwd=bare)
    assert plain.returncode == 0, plain.stderr
    assert not (bare / "public" / "101-harbour").exists()
    drafts = sitegen("build", "--drafts", cwd=bare)
    assert drafts.returncode == 0, drafts.stderr
    page = (bare / "public" / "101-harbour" / "index.html").read_text(encoding="utf-8")
    assert "The harbour reopened on Monday after the storm." in page


def test_new_never_overwrites_an_existing_file(bare):
    assert sitegen("new", SEED_NAME, cwd=bare).returncode == 0
    written = bare / "content" / "101-harbour.md"
    written.write_text(written.read_text() + '\n## "keep working on"\nMy own note.\n')
    edited = written.read_bytes()
    result = sitegen("new", SEED_NAME, cwd=bare)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "content/101-harbour.md: error: file exists" in result.stderr
    assert "Traceback" not in result.stderr
    assert written.read_bytes() == edited


# --- usage -----------------------------------------------------------------------------------

def test_unknown_command_is_a_usage_error(root):
    result = sitegen("publish", cwd=root)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_command_is_a_usage_error_that_prints_help(root):
    result = sitegen(cwd=root)
    assert result.returncode == 2
    assert "usage: sitegen" in result.stderr
    assert not (root / "public").exists()


def test_version_option_prints_the_version(root):
    result = sitegen("--version", cwd=root)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"sitegen \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


# --- init and check --links ---------------------------------------------------------------------


def test_init_then_build_and_check_links_work_at_once(tmp_path, monkeypatch, capsys):
    from sitegen.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["init", "mysite"]) == 0
    assert "Started a site in mysite" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path / "mysite")
    assert main(["build"]) == 0
    assert (tmp_path / "mysite" / "public" / "index.html").is_file()
    assert main(["check", "--links"]) == 0
    assert "and the links of" in capsys.readouterr().out
    assert (tmp_path / "mysite" / ".gitignore").read_text().startswith("public/")

    (tmp_path / "mysite" / "sitegen.toml").write_text('title = "Mine"\n')
    assert main(["init", "."]) == 0  # again: nothing overwritten
    assert "kept sitegen.toml: it exists" in capsys.readouterr().err
    assert (tmp_path / "mysite" / "sitegen.toml").read_text() == 'title = "Mine"\n'


def test_check_links_reports_each_broken_link_with_its_page_and_source(tmp_path, capsys):
    from sitegen.cli import main

    from .conftest import annotation, site_files, write_site

    note = '## "Hainan" #1\nSee [the map](../maps/index.html) and [note 9](#note-9).'
    site = write_site(tmp_path / "site", site_files({"content/a.md": annotation(note)}))
    assert main(["check", "--root", str(site)]) == 0  # links are checked only when asked
    capsys.readouterr()
    assert main(["check", "--links", "--root", str(site)]) == 1
    err = capsys.readouterr().err
    assert 'public/a/index.html: broken link "../maps/index.html" (from content/a.md)' in err
    assert 'public/a/index.html: broken link "#note-9" (from content/a.md)' in err
    assert "2 broken links" in err


def test_profile_prints_the_time_of_every_stage_after_the_summary(root, capsys):
    from sitegen.cli import main

    assert main(["build", "--root", str(root), "--profile"]) == 0
    out = capsys.readouterr().out
    summary, table = out.split("Time by stage:\n")
    assert summary.startswith("Built ")
    stages = [line.split()[0] for line in table.splitlines()]
    assert stages == ["read", "parse", "anchor", "assemble", "render", "write", "total"]
    assert all(line.rstrip().endswith(("%", "ms")) for line in table.splitlines())
    assert main(["build", "--root", str(root)]) == 0
    assert "Time by stage" not in capsys.readouterr().out  # only when asked

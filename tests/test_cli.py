"""The command line as a newcomer meets it, run as subprocesses: help, version, errors.

Every error here is bad input: one line on stderr naming what is wrong, exit code 2, no
traceback and nothing written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_openhcs import __version__
from napari_openhcs.cli import COMMANDS, build_parser
from napari_openhcs.plates.synthetic import write_plate

TORCH_PROJECTION = "napari_openhcs.functions.torch.max_projection"


def cli(*args, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "napari_openhcs.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
    )


def assert_bad_input(done: subprocess.CompletedProcess, *phrases: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return write_plate(root / "plate", wells=["A01", "A02"], sites=1, channels=2, z=2, size=32)


def pipeline_file(tmp_path: Path, ref: str, name: str = "proj") -> Path:
    doc = {
        "format": "napari-openhcs.pipeline",
        "version": 1,
        "name": "t",
        "steps": [{"name": name, "func": ref}],
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(doc))
    return path


def help_entries(text: str) -> dict[str, str]:
    """``{"--sites": "fields per well (default: 2)", ...}`` from an argparse help page."""
    entries: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        option = re.match(r"^  (-[^ ].*?)(?:  +(\S.*))?$", line)
        if option:
            flags = [f.split(" ")[0] for f in option.group(1).split(", ")]
            current = flags[-1]
            entries[current] = option.group(2) or ""
        elif current and re.match(r"^ {6,}\S", line):
            entries[current] = (entries[current] + " " + line.strip()).strip()
        else:
            current = None
    return entries


def subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_of_every_command_gives_each_option_help_its_default_and_an_example(command):
    done = cli(command, "--help")
    assert done.returncode == 0, done.stderr
    entries = help_entries(done.stdout)
    parser = subparsers()[command]
    assert parser.description and "example:\n  napari-openhcs " + command in done.stdout
    for action in parser._actions:
        if not action.option_strings:
            continue
        flag = action.option_strings[-1]
        assert entries.get(flag), f"{command} {flag} has no help text:\n{done.stdout}"
        default = action.default
        if default not in (None, False, argparse.SUPPRESS):
            assert f"(default: {default})" in entries[flag], (command, flag, entries[flag])


def test_synth_help_shows_the_plate_it_writes_by_default():
    entries = help_entries(cli("synth", "--help").stdout)
    assert "A01,A02,B01,B02" in entries["--wells"] and "4 wells" in entries["--wells"]
    for flag, value in (("--sites", 2), ("--channels", 2), ("--z", 3), ("--timepoints", 1)):
        assert f"(default: {value})" in entries[flag]


def test_functions_help_lists_the_libraries_and_memory_types():
    entries = help_entries(cli("functions", "--help").stdout)
    for library in ("napari_openhcs", "skimage", "pyclesperanto", "torch"):
        assert library in entries["--library"]
    assert "{numpy,cupy,torch,pyclesperanto}" in cli("functions", "--help").stdout


def test_version_prints_the_package_version():
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"napari-openhcs {__version__}"


def test_verbose_works_before_and_after_the_command(plate):
    for args in (["-v", "inspect", plate], ["inspect", plate, "-v"], ["inspect", "-v", plate]):
        done = cli(*args)
        assert done.returncode == 0, done.stderr
        assert "synthetic" in done.stdout
    parse = build_parser().parse_args
    assert parse(["inspect", "p", "-v"]).verbose and parse(["-v", "inspect", "p"]).verbose
    assert not parse(["inspect", "p"]).verbose


def test_run_out_naming_a_file_is_bad_input(plate, tmp_path):
    afile = tmp_path / "results"
    afile.write_text("not a folder")
    done = cli("run", plate, "--pipeline", "nuclei_count", "--out", afile, "--executor", "serial")
    assert_bad_input(done, f"--out {afile} is a file, not a folder")
    assert afile.read_text() == "not a folder"


def test_export_to_a_folder_is_bad_input(tmp_path):
    done = cli("export", "nuclei_count", "--to", tmp_path)
    assert_bad_input(done, f"--to {tmp_path} is a folder")
    assert list(tmp_path.iterdir()) == []


def test_scheduler_without_the_dask_executor_is_bad_input(plate, tmp_path):
    out = tmp_path / "out"
    for option in ("--scheduler", "--scheduler-file"):
        done = cli("run", plate, "--pipeline", "nuclei_count", "--out", out, option, "x:8786")
        assert_bad_input(done, f"{option} needs --executor dask")
    assert not out.exists()


@pytest.mark.parametrize(
    ("visible", "have"), [("", "this machine has no GPU"), ("0", "this machine has GPUs 0")]
)
def test_gpus_the_machine_lacks_are_refused_before_anything_is_written(
    plate, tmp_path, visible, have
):
    pytest.importorskip("torch")  # the GPU step here is a torch function
    out = tmp_path / "out"
    pipe = pipeline_file(tmp_path, TORCH_PROJECTION)
    done = cli(
        "run", plate, "--pipeline", pipe, "--out", out, "--gpus", "7", "--executor", "serial",
        env={"CUDA_VISIBLE_DEVICES": visible},
    )  # fmt: skip
    assert_bad_input(done, "--gpus 7", f"step 'proj' ({TORCH_PROJECTION})", have)
    assert not out.exists()


def test_a_misspelt_function_names_its_step_and_the_closest_reference(plate, tmp_path):
    pipe = pipeline_file(tmp_path, "napari_openhcs.functions.max_projektion", name="project")
    out = tmp_path / "out"
    done = cli("run", plate, "--pipeline", pipe, "--out", out, "--executor", "serial")
    assert_bad_input(done, "step 'project'", "did you mean napari_openhcs.functions.max_projection")
    assert not out.exists()


def _demo_rows(stdout: str) -> dict[str, list[str]]:
    """The per-well rows of the demo's table: well -> its columns as printed."""
    rows = [line.split() for line in stdout.splitlines()]
    return {r[0]: r[1:] for r in rows if r and re.fullmatch(r"[A-Z]\d\d", r[0])}


@pytest.mark.slow  # about 15 s on 2 cores: a cells plate through cell_profile
def test_demo_counts_cells_and_measures_the_positive_fraction_against_the_truth(tmp_path):
    out = tmp_path / "demo"
    done = subprocess.run(
        ["napari-openhcs", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert done.returncode == 0, done.stderr
    rows = _demo_rows(done.stdout)
    assert sorted(rows) == ["A01", "A02", "A03", "B01", "B02", "B03"]
    truth = json.loads((out / "plate" / "ground_truth.json").read_text())
    for well, row in rows.items():
        nuclei, true_nuclei, cells, true_cells = map(int, row[:4])
        positive, true_positive, planned = map(float, row[6:9])
        assert true_nuclei == true_cells == sum(truth["counts"][well].values())
        assert abs(nuclei - true_nuclei) <= 0.1 * true_nuclei, (well, row)
        assert abs(cells - true_cells) <= 0.1 * true_cells, (well, row)
        assert abs(positive - true_positive) <= 0.1, (well, row)
        assert planned == truth["phenotypes"][well]["positive_fraction"]
    # row B's cells are 1.5 times larger in the map: larger as measured too
    area = {r: np.median([float(rows[w][4]) for w in rows if w[0] == r]) for r in "AB"}
    assert area["B"] > 1.2 * area["A"], rows
    fractions = [float(rows[w][6]) for w in sorted(rows)]
    assert fractions == sorted(fractions) and fractions[0] < 0.1 < 0.9 < fractions[-1]
    assert "Cells_Intensity_MeanIntensity_" in done.stdout
    assert (out / "results" / "single_cell.parquet").is_file()
    assert (out / "plate_map.csv").is_file()


def test_demo_exits_1_naming_the_wells_whose_counts_are_off(tmp_path, monkeypatch, capsys):
    from napari_openhcs.cli import main, run

    wells = ["A01", "A02"]
    monkeypatch.setattr(run, "DEMO_PLATE", {**run.DEMO_PLATE, "wells": wells, "size": 128})
    monkeypatch.setattr(run, "DEMO_PLATE_MAP", {w: run.DEMO_PLATE_MAP[w] for w in wells})
    monkeypatch.setattr(run, "DEMO_COUNT_TOLERANCE", -1.0)  # every count is "off"
    assert main(["demo", "--out", str(tmp_path / "demo"), "--executor", "serial"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "counts are off by more than -100% of the truth in well(s) A01, A02 (exit 1)"


def test_demo_gui_without_napari_names_the_extra_before_doing_anything(tmp_path):
    fake = tmp_path / "no-napari" / "napari"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named napari')\n")
    path = os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])
    out = tmp_path / "demo"
    done = cli("demo", "--gui", "--out", out, "--executor", "serial", env={"PYTHONPATH": path})
    assert_bad_input(done, "pip install 'napari-openhcs[napari]'")
    assert not out.exists()


def test_the_dask_executor_logs_its_startup_only_with_verbose(plate, tmp_path):
    pytest.importorskip("distributed")
    base = ["run", plate, "--pipeline", "nuclei_count", "--executor", "dask", "--workers", "1"]
    quiet = cli(*base, "--out", tmp_path / "quiet")
    assert quiet.returncode == 0, quiet.stderr
    # (a warning such as "Port 8787 is already in use" may still show: warnings are kept)
    assert not re.search(r"INFO|distributed\.\w+ - ", quiet.stderr), quiet.stderr
    loud = cli("-v", *base, "--out", tmp_path / "loud")
    assert loud.returncode == 0, loud.stderr
    assert re.search(r"INFO distributed\.", loud.stderr), loud.stderr


def test_synth_shows_progress_per_well_on_stderr(tmp_path):
    done = cli("synth", tmp_path / "p", "--plate", "6", "--sites", "1", "--z", "1", "--size", "32")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "p")
    assert "6/6 wells" in done.stderr


def test_main_called_in_process_leaves_the_dask_logging_setting_as_it_was(monkeypatch):
    """``main`` quiets Dask through the environment for its own run only: a process that
    goes on (a test, a notebook) keeps Dask's logging as it was."""
    from napari_openhcs.cli import main

    monkeypatch.delenv("DASK_DISTRIBUTED__LOGGING__DISTRIBUTED", raising=False)
    assert main(["functions", "--library", "napari_openhcs", "--json"]) == 0
    assert "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED" not in os.environ

"""The worker count is chosen from the usable cores, the available memory and the units."""

from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace

import pytest

from napari_openhcs.execution import capacity
from napari_openhcs.execution.capacity import (
    available_memory,
    choose_for_units,
    choose_workers,
    unit_memory_estimate,
    usable_cores,
)
from napari_openhcs.execution.run import run_plate
from napari_openhcs.plates.synthetic import write_plate

WELLS = ["A01", "A02", "B01"]


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("plate")
    return write_plate(
        root / "plate", "imagexpress", wells=WELLS, sites=1, channels=2, z=1, size=64, seed=2
    )


def test_choose_workers_is_bounded_by_units_cores_and_memory():
    assert choose_workers(1) == 1
    assert 1 <= choose_workers(1000) <= 1000
    assert choose_workers(1000, mem_per_unit_estimate=10**18) == 1


def test_choose_workers_takes_the_smallest_of_cores_units_and_memory():
    gib = 2**30
    assert choose_workers(100, cores=8) == 8
    assert choose_workers(3, cores=8) == 3
    assert choose_workers(100, gib, cores=8, available=4 * gib) == 2  # 70 % of 4 GiB
    assert choose_workers(100, gib, cores=8, available=100 * gib) == 8
    assert choose_workers(0, cores=8) == 1


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_usable_cores_follow_the_cpu_affinity_not_the_machine(monkeypatch):
    assert usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert usable_cores() == 1
    assert choose_workers(100) == 1


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="no /proc/meminfo here")
def test_available_memory_reads_meminfo_without_psutil(monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil raises ImportError
    available = available_memory()
    assert isinstance(available, int) and available > 0


def test_a_unit_needs_its_planes_as_float32_times_working_copies():
    unit = SimpleNamespace(images=[None] * 4)
    assert unit_memory_estimate(unit, (100, 50)) == 100 * 50 * 4 * 4 * 4
    assert unit_memory_estimate(unit, None) == 0
    assert unit_memory_estimate(SimpleNamespace(images=()), (100, 50)) == 0


def test_the_choice_for_units_uses_the_largest_unit(monkeypatch):
    monkeypatch.setattr(capacity, "usable_cores", lambda: 16)
    monkeypatch.setattr(capacity, "available_memory", lambda: 10 * 2**20)
    units = [SimpleNamespace(images=[None] * n) for n in (1, 2, 8)]
    choice = choose_for_units(units, (256, 256))
    big = 256 * 256 * 4 * 4 * 8
    assert choice.unit_memory_estimate == big
    assert choice.workers == max(1, int(10 * 2**20 * capacity.MEMORY_SHARE // big)) == 1
    assert choice.to_dict() == {
        "workers": 1,
        "cores": 16,
        "memory_available": 10 * 2**20,
        "unit_memory_estimate": big,
        "units": 3,
    }


def test_a_run_without_a_worker_count_records_the_choice(plate, tmp_path):
    report = run_plate(plate, "nuclei_count", tmp_path / "out", executor="processes")
    assert report.exit_code == 0
    chosen = report.executor["chosen"]
    assert chosen["cores"] == usable_cores()
    assert chosen["units"] == len(WELLS)  # one unit per well: a single site each
    assert chosen["workers"] == min(usable_cores(), len(WELLS))
    assert chosen["unit_memory_estimate"] == 64 * 64 * 4 * 4 * 2  # two channels, one z
    assert report.executor["workers"] == chosen["workers"]
    assert len(report.executor["pids"]) == chosen["workers"]
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["executor"]["chosen"] == chosen


def test_memory_limits_the_workers_of_a_run(plate, tmp_path, monkeypatch):
    monkeypatch.setattr(capacity, "usable_cores", lambda: 3)
    monkeypatch.setattr(capacity, "available_memory", lambda: 64 * 64 * 4 * 4 * 2)
    report = run_plate(plate, "nuclei_count", tmp_path / "out", executor="processes")
    assert report.exit_code == 0
    assert report.executor["chosen"]["workers"] == 1
    assert report.executor["workers"] == 1 and len(report.executor["pids"]) == 1


def test_a_given_worker_count_is_kept_and_not_recorded_as_chosen(plate, tmp_path):
    report = run_plate(plate, "nuclei_count", tmp_path / "out", executor="processes", workers=1)
    assert report.exit_code == 0
    assert report.executor["workers"] == 1
    assert "chosen" not in report.executor


def test_a_second_run_in_one_process_keeps_the_warm_workers_of_the_first(plate, tmp_path):
    first = run_plate(plate, "nuclei_count", tmp_path / "first", executor="processes")
    second = run_plate(plate, "nuclei_count", tmp_path / "second", executor="processes")
    assert first.exit_code == second.exit_code == 0
    assert second.executor["chosen"]["workers"] == first.executor["chosen"]["workers"]
    assert second.executor["pids"] == first.executor["pids"]  # no worker started or stopped

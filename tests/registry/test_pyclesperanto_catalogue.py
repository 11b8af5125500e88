"""The reviewed pyclesperanto catalogue: size, public references, specs, every entry runs on a
small 2-D image here (pocl), and without any OpenCL device every entry (and the package's own
pyclesperanto functions) is listed unavailable with the reason instead of crashing discovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import napari_openhcs
from napari_openhcs.registry.libraries import pyclesperanto as cle_lib
from napari_openhcs.registry.libraries._reviewed import read_reviewed

pytest.importorskip("pyclesperanto")

from catalogue_helpers import (
    check_result,
    inputs,
    resolve,
    run_with_form_defaults,
    second_inputs,
)  # noqa: E402


@pytest.fixture(scope="module")
def infos():
    ok, reason = cle_lib.device_status()
    if not ok:
        pytest.fail(f"this machine should run pyclesperanto on pocl: {reason}")
    # The reviewed library functions (the package's own follow them, cle_lib.OWN_MODULE).
    return [i for i in cle_lib.discover() if i.ref.startswith("pyclesperanto.")]


def test_available_functions_come_from_the_reviewed_file(infos):
    available = [i for i in infos if i.available]
    # 0.25.1 offers 212 suitable operations, 35 of them taking a second image (see the review
    # notes in the file); a catalogue that shrinks means an operation vanished or its specs
    # stopped parsing.
    assert len(available) >= 200
    reviewed = [e.ref for e in read_reviewed("pyclesperanto")]
    assert len(reviewed) == len(set(reviewed)), "duplicates in reviewed/pyclesperanto.tsv"
    assert sorted(i.ref for i in infos) == sorted(reviewed)


def test_entries_are_public_references_with_parsed_parameters(infos):
    for info in infos:
        assert info.ref.startswith("pyclesperanto.") and "._" not in info.ref
        assert callable(resolve(info.ref)), info.ref
        assert info.memory_type == "pyclesperanto" and info.contract == "slice"
        names = [p.name for p in info.params]
        assert len(names) == len(set(names)), info.ref
        assert not {"output_image", "device"} & set(names), info.ref
        for p in info.params:
            assert not p.required or p.default is not None, (info.ref, p.name)
            if p.bounds is not None and isinstance(p.default, (int, float)):
                lo, hi = p.bounds
                assert lo <= p.default <= hi or p.default != p.default, (info.ref, p.name)


@pytest.mark.slow  # pocl compiles one kernel per operation: about two minutes on 2 cores
def test_every_function_runs_on_a_plane_with_its_form_defaults(infos):
    kinds = {e.ref: e.input_kinds for e in read_reviewed("pyclesperanto")}
    stacks = inputs()
    problems = []
    for info in infos:
        stack = stacks[kinds[info.ref][0]]
        try:
            out = run_with_form_defaults(info, stack, second_inputs(kinds[info.ref], stacks))
        except Exception as exc:  # noqa: BLE001 - collect all failures with their names
            problems.append(f"{info.ref}: {exc!r}"[:300])
            continue
        if (why := check_result(info, stack, out)) is not None:
            problems.append(f"{info.ref}: {why}")
    assert not problems, "\n".join(problems)


def test_without_an_opencl_device_every_entry_is_unavailable_with_the_reason(tmp_path):
    # An empty vendor folder: the OpenCL ICD loader finds no platform at all.
    code = (
        "import json, warnings; warnings.simplefilter('ignore');"
        "import pyclesperanto as cle;"
        "from napari_openhcs.registry.libraries import pyclesperanto as p;"
        "infos = p.discover();"
        "lister = getattr(cle, 'list_available_devices', None);"
        "print(json.dumps({'devices': list(lister()) if lister else [],"
        " 'refs': [i.ref for i in infos], 'available': [i.available for i in infos],"
        " 'reasons': sorted({i.reason for i in infos})}))"
    )
    src = str(Path(napari_openhcs.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "OCL_ICD_VENDORS": str(tmp_path),
        "OCL_ICD_FILENAMES": "",
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["devices"] == []  # the set-up really removed every device
    reviewed = [r for r in result["refs"] if r.startswith("pyclesperanto.")]
    assert sorted(reviewed) == sorted(e.ref for e in read_reviewed("pyclesperanto"))
    assert f"{cle_lib.OWN_MODULE}.measure_cells" in result["refs"]
    assert not any(result["available"])
    (reason,) = result["reasons"]
    assert "no OpenCL" in reason and "pocl-opencl-icd" in reason

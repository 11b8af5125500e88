"""The registry's contracts: references, errors, cache, discovery policy, CLI."""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import pickle
import subprocess
import sys

import numpy as np
import pytest

from napari_openhcs import cli
from napari_openhcs.errors import FunctionUnavailableError, UnknownFunctionError
from napari_openhcs.registry import FunctionRef, fn, get_info
from napari_openhcs.registry import catalog as registry_catalog


def test_unknown_reference_names_close_matches():
    with pytest.raises(UnknownFunctionError, match="skimage.filters.gaussian"):
        fn("skimage.filters.gausian")


def test_unregistered_callables_are_unknown():
    for ref in ("os.system", "builtins.eval", "subprocess.run"):
        with pytest.raises(UnknownFunctionError):
            fn(ref)


def test_function_ref_uses_public_path_and_pickles_by_reference():
    f = fn("skimage.filters.gaussian")
    assert f.ref == "skimage.filters.gaussian"
    blob = pickle.dumps(f)
    assert len(blob) <= 200
    assert b"skimage.filters.gaussian" in blob
    assert pickle.loads(blob) == f


def test_slice_contract_never_mixes_planes():
    stack = np.zeros((2, 16, 16), np.float32)
    stack[0, 8, 8] = 1.0
    out = fn("skimage.filters.gaussian")(stack, sigma=2)
    assert out.shape == stack.shape
    assert out[1].max() == 0.0  # plane 1 got nothing from plane 0


def test_threshold_adapter_gives_a_mask():
    stack = np.zeros((1, 16, 16), np.float32)
    stack[0, 4:8, 4:8] = 1.0
    mask = fn("skimage.filters.threshold_otsu")(stack)
    assert mask.dtype == bool
    assert mask.sum() == 16


def test_footprint_spec_becomes_an_array():
    stack = np.zeros((1, 15, 15), np.float32)
    stack[0, 7, 7] = 1.0
    out = fn("skimage.morphology.dilation")(stack, footprint={"disk": 2})
    assert out.sum() == 13  # a radius-2 disk has 13 pixels


def test_unavailable_function_gives_the_reason(monkeypatch):
    from dataclasses import replace

    index = registry_catalog.load_index()
    ref = "skimage.filters.gaussian"
    monkeypatch.setitem(index, ref, replace(index[ref], available=False, reason="no GPU here"))
    with pytest.raises(FunctionUnavailableError, match="no GPU here"):
        fn(ref)


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    registry_catalog.clear()
    try:
        registry_catalog.load_index()
        path = registry_catalog.cache_path()
        assert path.exists()
        path.write_text("{ not json")
        registry_catalog.clear()
        with caplog.at_level(logging.WARNING, logger="napari_openhcs.registry"):
            index = registry_catalog.load_index()
        assert "skimage.filters.gaussian" in index
        assert any("rebuilding" in r.message for r in caplog.records)
        assert json.loads(path.read_text())["key"] == registry_catalog.cache_key()
    finally:
        registry_catalog.clear()


def test_cache_is_rebuilt_when_a_function_module_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    registry_catalog.clear()
    try:
        registry_catalog.load_index(refresh=True)
        path = registry_catalog.cache_path()
        sources = json.loads(path.read_text())["sources"]
        # the modules defining own and plugin functions are recorded, with the reviewed tables
        assert any(p.endswith("functions/counting.py") for p in sources)
        assert any(p.endswith("openhcs_thirdparty_demo/functions.py") for p in sources)
        assert any(p.endswith("reviewed/skimage.tsv") for p in sources)
        builds = []
        real_build = registry_catalog.build_index
        monkeypatch.setattr(
            registry_catalog, "build_index", lambda: builds.append(1) or real_build()
        )
        registry_catalog.clear()
        registry_catalog.load_index()
        assert builds == []  # unchanged: the cache is used
        data = json.loads(path.read_text())
        counting = next(p for p in data["sources"] if p.endswith("functions/counting.py"))
        data["sources"][counting] -= 1  # as if the file had been edited since
        path.write_text(json.dumps(data))
        registry_catalog.clear()
        registry_catalog.load_index()
        assert builds == [1]
    finally:
        registry_catalog.clear()


def test_cache_is_invalidated_when_a_library_version_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    registry_catalog.clear()
    try:
        registry_catalog.load_index()
        old_key = registry_catalog.cache_key()
        from napari_openhcs.registry.libraries import skimage as sk_lib

        old_fingerprint = registry_catalog.fingerprint()
        monkeypatch.setattr(sk_lib, "versions", lambda: {"scikit-image": "99.0"})
        assert registry_catalog.cache_key() != old_key
        # An upgrade also renames the package's dist-info entry, which the warm-start
        # fingerprint sees.
        dists = registry_catalog.installed_distributions()
        monkeypatch.setattr(
            registry_catalog,
            "installed_distributions",
            lambda: [*dists, "scikit_image-99.0.dist-info"],
        )
        assert registry_catalog.fingerprint() != old_fingerprint
        built = []
        real_build = registry_catalog.build_index
        monkeypatch.setattr(
            registry_catalog, "build_index", lambda: built.append(1) or real_build()
        )
        registry_catalog.clear()
        registry_catalog.load_index()
        assert built == [1]
    finally:
        registry_catalog.clear()


def test_same_versions_with_other_files_reuse_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    registry_catalog.clear()
    try:
        registry_catalog.load_index()
        dists = registry_catalog.installed_distributions()
        monkeypatch.setattr(
            registry_catalog, "installed_distributions", lambda: [*dists, "unrelated.pth"]
        )
        monkeypatch.setattr(
            registry_catalog, "build_index", lambda: pytest.fail("index rebuilt needlessly")
        )
        registry_catalog.clear()
        assert "skimage.filters.gaussian" in registry_catalog.load_index()
        stored = json.loads(registry_catalog.cache_path().read_text())
        assert stored["fingerprint"] == registry_catalog.fingerprint()
    finally:
        registry_catalog.clear()


def test_another_checkout_of_the_package_does_not_reuse_this_ones_cache(tmp_path, monkeypatch):
    # Two checkouts (or environments) with the same versions share ~/.cache/napari-openhcs;
    # each must list its own functions, not those the other one cached.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    registry_catalog.clear()
    try:
        registry_catalog.load_index()
        built = []
        real_build = registry_catalog.build_index
        monkeypatch.setattr(
            registry_catalog, "build_index", lambda: built.append(1) or real_build()
        )
        monkeypatch.setattr(registry_catalog, "_PACKAGE", str(tmp_path / "other-checkout"))
        registry_catalog.clear()
        registry_catalog.load_index()
        assert built == [1]
    finally:
        registry_catalog.clear()


def test_missing_library_removes_its_functions_with_one_log_line(monkeypatch, caplog):
    from napari_openhcs.registry.libraries import pyclesperanto as cle_lib

    def missing():
        raise ImportError("No module named 'pyclesperanto'")

    monkeypatch.setattr(cle_lib, "discover", missing)
    with caplog.at_level(logging.INFO, logger="napari_openhcs.registry"):
        index = registry_catalog.build_index()
    assert not any(r.startswith("pyclesperanto.") for r in index)
    assert "skimage.filters.gaussian" in index
    lines = [r for r in caplog.records if "pyclesperanto" in r.message]
    assert len(lines) == 1 and "not installed" in lines[0].message


def test_pyclesperanto_without_opencl_is_listed_unavailable_with_the_reason(tmp_path):
    # No OpenCL ICD: pyclesperanto only warns on import; the registry must say why.
    code = (
        "import json; from napari_openhcs.registry.libraries import pyclesperanto as p;"
        "infos = p.discover();"
        "print(json.dumps([len(infos), sum(i.available for i in infos), infos[0].reason]))"
    )
    env = {**__import__("os").environ, "OCL_ICD_VENDORS": str(tmp_path), "OCL_ICD_FILENAMES": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    n, available, reason = json.loads(out.stdout.strip().splitlines()[-1])
    assert n >= 150 and available == 0
    assert "OpenCL" in reason


def test_import_is_light():
    code = (
        "import sys, napari_openhcs, napari_openhcs.registry, napari_openhcs.cli;"
        "heavy = [m for m in ('skimage', 'torch', 'cupy', 'pyclesperanto', 'qtpy', 'napari',"
        " 'magicgui', 'PyQt6') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _run_thirdparty(payload):
    import pickle as p

    ref, data = p.loads(payload)
    return ref(data, maximum=2.0)


def test_thirdparty_package_registers_through_entry_point_and_runs_in_spawn_worker():
    info = get_info("openhcs_thirdparty_demo.functions.invert")
    assert info.library == "thirdparty_demo"
    assert info.memory_type == "numpy"
    f = fn(info.ref)
    data = np.ones((1, 4, 4), np.float32)
    with mp.get_context("spawn").Pool(1) as pool:
        out = pool.apply(_run_thirdparty, (pickle.dumps((f, data)),))
    np.testing.assert_array_equal(out, np.ones((1, 4, 4)))


def test_functions_defined_in_main_are_refused():
    from napari_openhcs.registry.libraries._common import info_from_declared

    def local(image):
        return image

    local.__module__ = "__main__"
    with pytest.raises(ValueError, match="__main__"):
        info_from_declared(local, "__main__.local", "lab")


def test_functions_json_lists_libraries_with_required_fields(capsys):
    assert cli.main(["functions", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    by_lib: dict[str, list] = {}
    for item in listed:
        for key in (
            "ref",
            "library",
            "memory_type",
            "contract",
            "category",
            "available",
            "reason",
            "params",
        ):
            assert key in item, (item["ref"], key)
        by_lib.setdefault(item["library"], []).append(item)
    assert sum(i["available"] for i in by_lib["skimage"]) >= 110
    assert len(by_lib["napari_openhcs"]) >= 7
    assert len(by_lib["torch"]) >= 4
    assert len(by_lib.get("pyclesperanto", [])) >= 150
    gaussian = next(i for i in listed if i["ref"] == "skimage.filters.gaussian")
    sigma = next(p for p in gaussian["params"] if p["name"] == "sigma")
    assert sigma["annotation"] == "float" and sigma["bounds"][0] <= sigma["default"]


def test_functions_filters_by_library_and_memory_type(capsys):
    assert cli.main(["functions", "--library", "torch", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed and {i["memory_type"] for i in listed} == {"torch"}
    assert cli.main(["functions", "--memory-type", "quantum"]) == 2


def test_function_ref_is_a_callable_class_not_a_closure():
    f = fn("napari_openhcs.functions.max_projection")
    assert isinstance(f, FunctionRef)
    assert f.__name__ == "max_projection"
    assert "projection" in (f.__doc__ or "").lower()

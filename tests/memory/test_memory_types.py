"""Memory-type detection and availability."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.memory import (
    MEMORY_TYPES,
    available_memory_types,
    detect_memory_type,
    gpu_available,
    memory_type_status,
)


def test_numpy_arrays_and_memmaps_are_numpy(tmp_path):
    m = np.memmap(tmp_path / "a.raw", dtype=np.uint16, mode="w+", shape=(4, 4))
    assert detect_memory_type(np.zeros((2, 2))) == "numpy"
    assert detect_memory_type(m) == "numpy"
    assert detect_memory_type(m[1:]) == "numpy"


def test_torch_tensor_is_torch():
    torch = pytest.importorskip("torch")
    assert detect_memory_type(torch.zeros(2, 2)) == "torch"
    assert detect_memory_type(torch.nn.Parameter(torch.zeros(2))) == "torch"


def test_pyclesperanto_array_is_pyclesperanto():
    cle = pytest.importorskip("pyclesperanto")
    assert detect_memory_type(cle.push(np.zeros((2, 2), np.float32))) == "pyclesperanto"


def test_subclass_of_ndarray_from_another_module_is_numpy():
    class Sub(np.ndarray):
        pass

    Sub.__module__ = "somewhere_else"
    assert detect_memory_type(np.zeros(3).view(Sub)) == "numpy"


@pytest.mark.parametrize("value", [[1, 2], 3.0, "image", None])
def test_non_arrays_are_refused_with_type_error(value):
    with pytest.raises(TypeError, match="expected an image array"):
        detect_memory_type(value)


def test_status_covers_every_type_with_a_reason_when_unavailable():
    status = memory_type_status()
    assert set(status) == set(MEMORY_TYPES)
    assert status["numpy"] == (True, "")
    for ok, reason in status.values():
        assert isinstance(ok, bool)
        assert (reason == "") == ok


def test_available_types_match_status_and_start_with_numpy():
    status = memory_type_status()
    available = available_memory_types()
    assert available[0] == "numpy"
    assert available == [kind for kind in MEMORY_TYPES if status[kind][0]]


def test_installed_cpu_libraries_are_available():
    pytest.importorskip("torch")
    assert "torch" in available_memory_types()


def test_missing_library_is_reported_not_raised(monkeypatch):
    import sys

    from napari_openhcs.memory import types

    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    types.clear_status_cache()
    try:
        ok, reason = memory_type_status()["cupy"]
        assert not ok
        assert "CuPy is not installed" in reason
        assert "cupy" not in available_memory_types()
    finally:
        monkeypatch.undo()
        types.clear_status_cache()


def test_gpu_available_agrees_with_torch_and_cupy():
    expected = memory_type_status()["cupy"][0]
    if not expected and memory_type_status()["torch"][0]:
        import torch

        expected = torch.cuda.is_available()
    assert gpu_available() is bool(expected)


def test_importing_memory_imports_no_array_library(run_child):
    result = run_child(
        """
        import sys
        import napari_openhcs.memory
        import napari_openhcs.memory.decorators, napari_openhcs.memory.convert
        heavy = [m for m in ("torch", "cupy", "pyclesperanto", "skimage") if m in sys.modules]
        print("HEAVY", heavy)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_detecting_a_numpy_array_imports_nothing(run_child):
    result = run_child(
        """
        import sys
        import numpy as np
        from napari_openhcs.memory import detect_memory_type
        print(detect_memory_type(np.zeros(2)), "torch" in sys.modules, "cupy" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["numpy", "False", "False"]

"""GPU selection by context, and CPU thread limits for worker processes."""

from __future__ import annotations

import contextvars
import threading

import pytest

from napari_openhcs.memory import current_gpu, limit_cpu_threads, use_gpu
from napari_openhcs.memory.devices import THREAD_VARIABLES


def test_use_gpu_sets_and_restores_the_choice():
    assert current_gpu() is None
    with use_gpu(1):
        assert current_gpu() == 1
        with use_gpu(0):
            assert current_gpu() == 0
        assert current_gpu() == 1
    assert current_gpu() is None


def test_use_gpu_is_restored_after_an_error():
    with pytest.raises(RuntimeError), use_gpu(2):
        raise RuntimeError("step failed")
    assert current_gpu() is None


@pytest.mark.parametrize("bad", [-1, 1.0, "0", True])
def test_use_gpu_refuses_bad_indices(bad):
    with pytest.raises(ValueError, match="GPU index"), use_gpu(bad):
        pass


def test_use_gpu_does_not_leak_into_other_threads():
    seen = []
    with use_gpu(3):
        thread = threading.Thread(target=lambda: seen.append(current_gpu()))
        thread.start()
        thread.join()
        copied = contextvars.copy_context().run(current_gpu)
    assert seen == [None]
    assert copied == 3


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_limit_cpu_threads_refuses_bad_counts(bad):
    with pytest.raises(ValueError, match="positive integer"):
        limit_cpu_threads(bad)


def test_limit_cpu_threads_in_a_child_caps_pocl_and_pyclesperanto_still_runs(run_child):
    pytest.importorskip("pyclesperanto")
    env_clear = {name: "" for name in THREAD_VARIABLES}
    result = run_child(
        """
        import os, re
        from napari_openhcs.memory import limit_cpu_threads
        from napari_openhcs.memory.devices import THREAD_VARIABLES
        limit_cpu_threads(1)
        print("ENV", *[os.environ[name] for name in THREAD_VARIABLES])
        import numpy as np
        import pyclesperanto as cle
        info = str(cle.get_device().info)
        units = re.search(r"Compute Units:\\s*(\\d+)", info)
        print("POCL", "PoCL" in info or "pthread" in info, units.group(1) if units else "?")
        img = np.zeros((16, 16), np.float32)
        img[8, 8] = 1
        out = cle.pull(cle.gaussian_blur(img, sigma_x=1, sigma_y=1))
        print("BLUR", round(float(out.sum()), 3), bool(out[8, 8] < 1))
        """,
        **env_clear,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["ENV"].split() == ["1"] * len(THREAD_VARIABLES)
    assert lines["BLUR"] == "1.0 True"
    is_pocl, units = lines["POCL"].split()
    if is_pocl == "True":  # pocl's CPU device honours the cap; a GPU's compute units do not change
        assert units == "1"


def test_limit_cpu_threads_sets_torch_threads_when_torch_is_loaded(run_child):
    pytest.importorskip("torch")
    result = run_child(
        """
        import torch
        from napari_openhcs.memory import limit_cpu_threads
        limit_cpu_threads(1)
        print("THREADS", torch.get_num_threads())
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "THREADS 1" in result.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [("0,1", [0, 1]), ("3", [0]), ("", []), ("1,-1,2", [0]), ("GPU-abc,GPU-def", [0, 1])],
)
def test_visible_gpus_follow_cuda_visible_devices(monkeypatch, env, expected):
    from napari_openhcs.memory.devices import visible_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", env)
    assert visible_gpus() == expected

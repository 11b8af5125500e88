"""Which GPU a call runs on, freeing GPU caches, and CPU thread limits for workers.

The GPU choice is a context variable read when a function is called, never when it is
decorated, so decorated functions hold no device or stream objects and pickle by reference.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import glob
import os
import sys
from collections.abc import Iterator

_GPU: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "napari_openhcs_gpu", default=None
)

# pocl 3.x (Debian 12's pocl-opencl-icd) reads POCL_MAX_PTHREAD_COUNT for its CPU device;
# pocl 4 and later renamed it POCL_CPU_MAX_CU_COUNT. Setting both covers either version.
POCL_THREAD_VARIABLES: tuple[str, ...] = ("POCL_MAX_PTHREAD_COUNT", "POCL_CPU_MAX_CU_COUNT")
THREAD_VARIABLES: tuple[str, ...] = (
    *POCL_THREAD_VARIABLES,
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLOSC_NTHREADS",  # c-blosc reads it on every (de)compression call
)


@contextlib.contextmanager
def use_gpu(index: int | None) -> Iterator[None]:
    """Run decorated GPU functions called inside the block on GPU ``index``.

    Conversions with ``gpu=None`` and the ``@cupy`` / ``@torch`` decorators read this when they
    are called. ``None`` restores the default (CuPy's current device; for ``@torch``, the
    input's device, else GPU 0 when there is one). The setting is per thread and per asyncio
    task.

    Parameters
    ----------
    index : int or None
        CUDA device number.

    Examples
    --------
    >>> with use_gpu(0):
    ...     current_gpu()
    0
    >>> current_gpu() is None
    True
    """
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise ValueError(f"GPU index must be a non-negative integer or None, got {index!r}")
    token = _GPU.set(index)
    try:
        yield
    finally:
        _GPU.reset(token)


@contextlib.contextmanager
def on_gpu(gpu: int | None, kinds: tuple[str, ...]) -> Iterator[None]:
    """Make ``gpu`` the current device of CuPy and torch (those of ``kinds``) inside the block.

    Nothing happens for ``gpu=None`` or when ``kinds`` names neither library.

    Examples
    --------
    >>> with on_gpu(None, ("numpy",)):
    ...     pass
    """
    with contextlib.ExitStack() as stack:
        if gpu is not None:
            if "cupy" in kinds:
                import cupy  # lazy: a GPU library, imported only for a CuPy call

                stack.enter_context(cupy.cuda.Device(gpu))
            if "torch" in kinds:
                import torch  # lazy: a GPU library, imported only for a torch call

                if torch.cuda.is_available():
                    stack.enter_context(torch.cuda.device(gpu))
        yield


def visible_gpus() -> list[int]:
    """Indices of the NVIDIA GPUs this process may use, without importing any GPU library.

    ``CUDA_VISIBLE_DEVICES`` decides when set (its entries are renumbered from 0, as CUDA
    does); otherwise the ``/dev/nvidia<N>`` device files are counted.

    Examples
    --------
    >>> isinstance(visible_gpus(), list)
    True
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        entries = []
        for item in env.split(","):
            item = item.strip()
            if not item or item.startswith("-"):
                break  # CUDA stops at the first invalid entry
            entries.append(item)
        return list(range(len(entries)))
    return list(range(len(glob.glob("/dev/nvidia[0-9]*"))))


def current_gpu() -> int | None:
    """Return the GPU chosen with :func:`use_gpu` in this context, or ``None``.

    Examples
    --------
    >>> current_gpu() is None
    True
    """
    return _GPU.get()


def free_gpu_memory() -> None:
    """Return cached GPU memory of CuPy and PyTorch to the driver.

    Frees CuPy's default and pinned memory pools and PyTorch's CUDA caching allocator, for
    the libraries that are already imported (none is imported here).

    Examples
    --------
    >>> free_gpu_memory()
    """
    gc.collect()  # arrays still referenced only from dead frames hold pool blocks
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        with contextlib.suppress(Exception):
            cupy.get_default_memory_pool().free_all_blocks()
        with contextlib.suppress(Exception):
            cupy.get_default_pinned_memory_pool().free_all_blocks()
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            if torch.cuda.is_initialized():
                torch.cuda.empty_cache()


def limit_cpu_threads(n: int) -> dict[str, str]:
    """Cap the CPU threads of OpenCL on the CPU (pocl), OpenMP, MKL and OpenBLAS.

    A worker process calls this first, with its share of the machine's cores, so that several
    workers do not each start one thread per core. The libraries read these variables when
    they load, so this must run before pyclesperanto, torch or scikit-image are imported;
    later calls only reach libraries loaded afterwards. PyTorch, if already imported, is
    also told directly.

    Parameters
    ----------
    n : int
        Threads per library, at least 1.

    Returns
    -------
    dict of str to str
        The environment variables set.

    Examples
    --------
    >>> limit_cpu_threads(2)["OMP_NUM_THREADS"]  # doctest: +SKIP
    '2'
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the thread count must be a positive integer, got {n!r}")
    values = {name: str(n) for name in THREAD_VARIABLES}
    os.environ.update(values)
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            torch.set_num_threads(n)
    return values

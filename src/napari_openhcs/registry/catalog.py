"""The registry's catalog: every known function's ``FunctionInfo``, built once, cached on disk.

The cache file lives in ``$XDG_CACHE_HOME/napari-openhcs/`` (``~/.cache`` by default) and is
keyed by the versions of napari-openhcs and of each library, where this copy of the package
lives, the installed function packages,
and a cheap device signature (``/dev/nvidia*`` and the OpenCL ICD files present, plus
``CUDA_VISIBLE_DEVICES`` and ``OCL_ICD_VENDORS``), so computing the key imports no library.
A changed key or a corrupt file rebuilds it; ``NAPARI_OPENHCS_DISABLE_REGISTRY_CACHE=1`` turns the
cache off. Building imports the libraries (a few seconds); reading the cache imports none.

A warm start first compares a cheaper fingerprint stored with the cache: the device
signature plus the names of the ``*.dist-info``/``*.egg-info`` entries (which carry the
versions) and ``.pth`` files on ``sys.path``. Installing, removing or upgrading any package
changes it; only then is the full key (``importlib.metadata`` lookups) computed. The cache
also records the modification times of the modules defining the package's own and plugin
functions and of the reviewed tables: editing one (an editable install) rebuilds the index.
"""

from __future__ import annotations

import glob
import hashlib
import importlib
import json
import logging
import os
import sys
import threading
from pathlib import Path

from napari_openhcs import envvars
from napari_openhcs.atomic import write_text
from napari_openhcs.registry.info import FunctionInfo

log = logging.getLogger("napari_openhcs.registry")

#: Discovery modules under ``registry/libraries``, in listing order.
LIBRARY_MODULES = ("own", "skimage", "pyclesperanto", "torch", "cupy", "cucim", "entrypoints")
CACHE_FORMAT = 2

#: Where this copy of the package lives: two checkouts or environments with the same versions
#: share the cache folder, and each must read its own functions, not the other's.
_PACKAGE = str(Path(__file__).resolve().parents[1])

_lock = threading.RLock()
_index: dict[str, FunctionInfo] | None = None


def _library_module(name: str):
    return importlib.import_module(f"napari_openhcs.registry.libraries.{name}")


def device_signature() -> dict:
    """What decides device availability, read without importing any library."""
    icd_dir = os.environ.get("OCL_ICD_VENDORS", "/etc/OpenCL/vendors")
    return {
        "nvidia": sorted(glob.glob("/dev/nvidia[0-9]*")),
        "opencl": sorted(os.path.basename(p) for p in glob.glob(os.path.join(icd_dir, "*"))),
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "OCL_ICD_VENDORS": os.environ.get("OCL_ICD_VENDORS"),
    }


def cache_key() -> str:
    """A hash of everything the index depends on (versions, plugins, devices)."""
    parts: dict = {"format": CACHE_FORMAT, "devices": device_signature(), "package": _PACKAGE}
    for name in LIBRARY_MODULES:
        try:
            parts[name] = _library_module(name).versions()
        except ImportError:
            parts[name] = None
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def installed_distributions() -> list[str]:
    """Names of the distribution metadata entries on ``sys.path`` (they include versions)."""
    names: list[str] = []
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                names.extend(
                    e.name for e in it if e.name.endswith((".dist-info", ".egg-info", ".pth"))
                )
        except OSError:
            continue
    return sorted(names)


def fingerprint() -> str:
    """A cheap stand-in for :func:`cache_key`: no metadata parsing, no library import."""
    parts = {
        "format": CACHE_FORMAT,
        "devices": device_signature(),
        "dists": installed_distributions(),
        "package": _PACKAGE,
    }
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "napari-openhcs" / "registry.json"


def build_index() -> dict[str, FunctionInfo]:
    """Discover every library now (imports them). A missing library costs one log line."""
    index: dict[str, FunctionInfo] = {}
    for name in LIBRARY_MODULES:
        try:
            module = _library_module(name)
        except ImportError as exc:
            log.info("registry: discovery module %r unavailable: %s", name, exc)
            continue
        try:
            infos = module.discover()
        except ImportError as exc:
            log.info(
                "registry: %s is not installed, its functions are not listed (%s)",
                module.LIBRARY,
                exc,
            )
            continue
        for info in infos:
            index.setdefault(info.ref, info)
    return index


def _read_cache_file(path: Path) -> dict | None:
    """The cache file's content, or ``None`` (one warning if it exists but is corrupt)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("registry cache %s is unreadable (%s); rebuilding it", path, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("functions"), list):
        log.warning("registry cache %s is corrupt; rebuilding it", path)
        return None
    return data


def _index_from(data: dict, path: Path) -> dict[str, FunctionInfo] | None:
    try:
        return {d["ref"]: FunctionInfo.from_dict(d) for d in data["functions"]}
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("registry cache %s is corrupt (%s); rebuilding it", path, exc)
        return None


def _source_files(index: dict[str, FunctionInfo]) -> dict[str, int]:
    """Modification times of the modules that define the package's own and plugin functions
    (and of the reviewed tables), so that editing one (an editable install) rebuilds."""
    files = set()
    for info in index.values():
        if info.library in ("skimage", "pyclesperanto", "cupy", "cucim", "torch"):
            continue  # versioned libraries: the fingerprint covers them
        module_name, _, attr = info.ref.rpartition(".")
        module = sys.modules.get(module_name)
        defining = getattr(getattr(module, attr, None), "__module__", None) or module_name
        for name in (module_name, defining):
            path = getattr(sys.modules.get(name), "__file__", None)
            if path:
                files.add(path)
    here = Path(__file__).resolve().parent
    files.update(str(p) for p in here.glob("reviewed/*.tsv"))
    files.update(str(here / name) for name in ("overrides.py", "specs.py"))
    out = {}
    for path in sorted(files):
        try:
            out[path] = os.stat(path).st_mtime_ns
        except OSError:
            continue
    return out


def _sources_unchanged(sources) -> bool:
    if not isinstance(sources, dict):
        return False  # a cache from before sources were recorded: rebuild once
    for path, mtime in sources.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def _write_cache(
    path: Path, key: str, quick: str, index: dict[str, FunctionInfo], sources=None
) -> None:
    functions = [info.to_dict() for info in index.values()]
    data = {
        "key": key,
        "fingerprint": quick,
        "functions": functions,
        "sources": _source_files(index) if sources is None else sources,
    }
    try:
        write_text(path, json.dumps(data))
    except OSError as exc:
        log.warning("could not write the registry cache %s: %s", path, exc)


def load_index(refresh: bool = False) -> dict[str, FunctionInfo]:
    """The index, from memory, the disk cache, or a fresh discovery (in that order)."""
    global _index
    with _lock:
        if _index is not None and not refresh:
            return _index
        use_cache = not envvars.flag(envvars.DISABLE_REGISTRY_CACHE)
        index = None
        if use_cache and not refresh:
            path = cache_path()
            data = _read_cache_file(path)
            if data is not None and not _sources_unchanged(data.get("sources")):
                log.info("registry: a function module changed since the cache was built")
                data = None
            if data is not None:
                quick = fingerprint()
                if data.get("fingerprint") == quick:
                    index = _index_from(data, path)
                else:
                    key = cache_key()
                    if data.get("key") == key:
                        index = _index_from(data, path)
                        if index is not None:  # same versions, other files: new fingerprint
                            _write_cache(path, key, quick, index, data.get("sources"))
        if index is None:
            index = build_index()
            if use_cache:
                _write_cache(cache_path(), cache_key(), fingerprint(), index)
        _index = index
        return index


def clear() -> None:
    """Forget the in-memory index (the next use reads the cache or rebuilds)."""
    global _index
    with _lock:
        _index = None

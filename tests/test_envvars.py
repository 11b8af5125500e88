"""Environment variables: one prefix, the old names still work with a deprecation warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from napari_openhcs import envvars


def test_new_name_is_read_without_warning(monkeypatch):
    monkeypatch.setenv("NAPARI_OPENHCS_WORKER_THREADS", "3")
    monkeypatch.delenv("OPENHCS_WORKER_THREADS", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert envvars.read(envvars.WORKER_THREADS) == "3"


def test_old_name_still_works_and_warns(monkeypatch):
    monkeypatch.delenv("NAPARI_OPENHCS_WORKER_THREADS", raising=False)
    monkeypatch.setenv("OPENHCS_WORKER_THREADS", "5")
    with pytest.warns(DeprecationWarning, match="NAPARI_OPENHCS_WORKER_THREADS"):
        assert envvars.read(envvars.WORKER_THREADS) == "5"


def test_new_name_wins_over_old(monkeypatch):
    monkeypatch.setenv("NAPARI_OPENHCS_WORKER_THREADS", "2")
    monkeypatch.setenv("OPENHCS_WORKER_THREADS", "9")
    assert envvars.read(envvars.WORKER_THREADS) == "2"


def _cache_used(monkeypatch) -> bool:
    """Whether ``load_index`` touches the disk cache (discovery itself is stubbed out)."""
    from napari_openhcs.registry import catalog as index

    touched = []
    monkeypatch.setattr(index, "_index", None)
    monkeypatch.setattr(index, "build_index", lambda: {})
    monkeypatch.setattr(
        index, "cache_path", lambda: touched.append(1) or Path("registry-cache.json")
    )
    monkeypatch.setattr(index, "_read_cache_file", lambda path: None)
    monkeypatch.setattr(index, "_write_cache", lambda *a, **k: None)
    index.load_index()
    monkeypatch.setattr(index, "_index", None)
    return bool(touched)


@pytest.mark.parametrize(
    ("variable", "warns"),
    [("NAPARI_OPENHCS_DISABLE_REGISTRY_CACHE", False), ("OPENHCS_DISABLE_REGISTRY_CACHE", True)],
)
def test_registry_cache_switch_works_under_both_names(monkeypatch, variable, warns):
    for old in ("NAPARI_OPENHCS_DISABLE_REGISTRY_CACHE", "OPENHCS_DISABLE_REGISTRY_CACHE"):
        monkeypatch.delenv(old, raising=False)
    assert _cache_used(monkeypatch) is True
    monkeypatch.setenv(variable, "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _cache_used(monkeypatch) is False
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert bool(deprecations) is warns

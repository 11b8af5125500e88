"""The wheel: it carries the napari manifest as a real file, and npe2 validates it installed.

Built without network (``--no-isolation``: hatchling is installed), installed ``--no-deps``
into a new venv that sees the test interpreter's packages (npe2, napari...) but gets
napari-openhcs only from the wheel. The test interpreter may itself run in a venv, whose
packages ``--system-site-packages`` would not show (it shows the base interpreter's), so its
site folders are put on the new venv's path by a ``.pth`` file.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

_FIND_MANIFEST = """
import importlib.metadata as md, npe2
dist = md.distribution("napari-openhcs")
manifest = npe2.PluginManifest.from_distribution("napari-openhcs")
print(manifest.name, dist.locate_file("napari_openhcs/napari.yaml"))
"""


def _run(args, cwd, env=None, timeout=120):
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _make_venv(where: Path) -> tuple[Path, Path, dict]:
    """A venv whose own site folder comes first, then the test interpreter's site folders
    (as plain path entries: their ``.pth`` files, such as an editable install of this
    package, are not run). Returns its python, its site folder and the environment to run it.
    """
    venv = where / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=where)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    own = Path(_run([python, "-c", code], where, env).strip())
    outer = [*site.getsitepackages(), site.getusersitepackages()]
    lines = [p for p in dict.fromkeys(outer) if Path(p).is_dir() and Path(p) != own]
    (own / "_test_interpreter_site.pth").write_text("".join(f"{p}\n" for p in lines))
    return python, own, env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, ROOT], cwd=out
    )
    [whl] = out.glob("napari_openhcs-*.whl")
    return whl


def test_wheel_holds_the_manifest_as_a_file(wheel):
    manifest = (ROOT / "napari.yaml").read_text()
    with zipfile.ZipFile(wheel) as zf:
        info = zf.getinfo("napari_openhcs/napari.yaml")
        is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
        assert not is_link
        assert zf.read(info).decode() == manifest
        entry_points = zf.read(next(n for n in zf.namelist() if n.endswith("entry_points.txt")))
    assert "napari.manifest" in entry_points.decode()
    assert "napari_openhcs:napari.yaml" in entry_points.decode()


def test_the_venv_sees_the_test_interpreters_packages_not_the_base_interpreters(tmp_path):
    """Inside a venv, ``--system-site-packages`` showed the base interpreter's packages (often
    none: npe2 missing); the tests' venv sees the packages the tests themselves run with."""
    import npe2

    python, _, env = _make_venv(tmp_path)
    where = _run([python, "-c", "import npe2; print(npe2.__file__)"], tmp_path, env).strip()
    assert Path(where).resolve() == Path(npe2.__file__).resolve()


def test_installed_wheel_validates_with_npe2(wheel, tmp_path):
    python, _, env = _make_venv(tmp_path)
    venv = tmp_path / "venv"
    # pip comes from the test interpreter's site folders; it installs into the new venv
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], tmp_path, env)
    where = _run(
        [python, "-c", "import napari_openhcs; print(napari_openhcs.__file__)"], tmp_path, env
    )
    assert Path(where.strip()).is_relative_to(venv), where
    assert not Path(where.strip()).is_relative_to(ROOT)
    # the distribution npe2 reads the manifest from is the wheel's, in the venv
    found = _run([python, "-c", _FIND_MANIFEST], tmp_path, env).split()
    assert found[0] == "napari-openhcs"
    assert Path(found[1]).is_relative_to(venv), found
    _run([python, "-m", "npe2", "validate", "napari-openhcs"], tmp_path, env)


def test_editable_install_validates_with_npe2(wheel, tmp_path):
    """An editable install (the source tree on the path, plus the distribution's metadata)
    finds the manifest through the ``src/napari_openhcs/napari.yaml`` symlink, and every
    command in it imports.

    Built by hand in a venv, as hatchling's editable wheel does it (a ``.pth`` file plus
    ``.dist-info``): ``pip install -e .`` offline would need the ``editables`` package, and
    the shared environment's own editable install may point at another checkout.
    """
    python, site_dir, env = _make_venv(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site_dir, [n for n in zf.namelist() if ".dist-info/" in n])
    # first on the path, ahead of any other install of the package the system may have
    (site_dir / "_napari_openhcs_dev.pth").write_text(
        f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\n"
    )
    where = _run(
        [python, "-c", "import napari_openhcs; print(napari_openhcs.__file__)"], tmp_path, env
    )
    assert Path(where.strip()).is_relative_to(ROOT / "src"), where
    found = _run([python, "-c", _FIND_MANIFEST], tmp_path, env).split()
    assert Path(found[1]).is_relative_to(site_dir), found
    _run([python, "-m", "npe2", "validate", "--imports", "napari-openhcs"], tmp_path, env)

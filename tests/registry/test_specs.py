"""Parameter specs: numpydoc parsing, types from defaults, overrides, footprints, bounds and
reading a value back from the text a user wrote (the widget map is tested in
``tests/gui/test_param_widgets.py``)."""

from __future__ import annotations

import typing

import pytest

from napari_openhcs.registry.docstrings import parse_numpydoc
from napari_openhcs.registry.specs import default_bounds, param_specs, parse_value


def documented(image, sigma=1, mode="reflect", order=None, cval=0, names=None, out=None):
    """Smooth an image.

    Parameters
    ----------
    image : ndarray
        Input.
    sigma : scalar or sequence of scalars, optional
        Standard deviation
        of the kernel. More text.
    mode : {'reflect', 'constant', "nearest"}, optional
        Edge handling.
    order : int, optional
        Interpolation order.
    names : sequence of float, optional
        Per-axis values.
    out : ndarray, optional
        Output.

    Returns
    -------
    ndarray

    Other Parameters
    ----------------
    cval : float, optional
        Fill value.
    """


def by_name(specs):
    return {s.name: s for s in specs}


def test_numpydoc_parameters_and_other_parameters_are_parsed():
    docs = parse_numpydoc(documented.__doc__)
    assert docs["sigma"][0] == "scalar or sequence of scalars, optional"
    assert docs["sigma"][1] == "Standard deviation of the kernel. More text."
    assert docs["cval"] == ("float, optional", "Fill value.")
    assert "ndarray" not in docs  # the Returns section is not a parameter


def test_types_choices_and_optional_come_from_defaults_and_docs():
    specs = by_name(param_specs(documented, "tests.documented", overrides={}))
    assert "image" not in specs and "out" not in specs
    assert specs["sigma"].annotation == "float"  # int default, documented as a scalar
    assert specs["mode"].annotation == "str"
    assert specs["mode"].choices == ("reflect", "constant", "nearest")
    assert specs["order"].annotation == "int" and specs["order"].optional
    assert specs["cval"].annotation == "float"  # from Other Parameters
    assert specs["names"].annotation == "tuple[float, ...]" and specs["names"].optional
    assert specs["sigma"].doc.startswith("Standard deviation")


def test_annotated_signatures_win_and_outputs_are_excluded():
    def annotated(
        image,
        output_image: object | None = None,
        radius: int = 2,
        scale: float = 0.5,
        flag: bool = False,
        how: typing.Literal["a", "b"] = "b",
        device=None,
    ):
        return image

    specs = by_name(param_specs(annotated, "tests.annotated", overrides={}))
    assert set(specs) == {"radius", "scale", "flag", "how"}
    assert specs["radius"].annotation == "int" and specs["radius"].default == 2
    assert specs["scale"].annotation == "float"
    assert specs["flag"].annotation == "bool"
    assert specs["how"].choices == ("a", "b")


def test_overrides_apply_and_exclude():
    overrides = {"sigma": {"default": 2.0, "bounds": (0.0, 50.0)}, "order": None}
    specs = by_name(param_specs(documented, "tests.documented", overrides=overrides))
    assert specs["sigma"].default == 2.0 and specs["sigma"].bounds == (0.0, 50.0)
    assert "order" not in specs


def test_reviewed_table_for_a_library_function():
    from skimage.filters import gaussian

    specs = by_name(param_specs(gaussian, "skimage.filters.gaussian"))
    assert "channel_axis" not in specs and "out" not in specs
    assert specs["sigma"].annotation == "float" and specs["sigma"].bounds == (0.0, 100.0)
    assert "reflect" in specs["mode"].choices


def test_footprint_none_default_becomes_a_small_disk():
    from skimage.morphology import erosion

    spec = by_name(param_specs(erosion, "skimage.morphology.erosion"))["footprint"]
    assert spec.annotation == "footprint"
    assert spec.default == {"disk": 1}


def test_required_parameter_without_a_value_leaves_the_function_out():
    def needs(image, other):
        return image

    with pytest.raises(ValueError, match="other"):
        param_specs(needs, "tests.needs", overrides={})
    specs = param_specs(needs, "tests.needs", overrides={"other": {"default": 3}})
    assert specs[0].default == 3 and specs[0].required


def test_deprecated_sentinel_defaults_are_left_out():
    class Sentinel:
        pass

    def old(image, size=Sentinel(), keep=1):
        return image

    assert [s.name for s in param_specs(old, "tests.old", overrides={})] == ["keep"]


@pytest.mark.parametrize(
    ("name", "annotation", "default"),
    [("sigma", "float", 1.0), ("radius", "int", 5000), ("offset", "int", -20), ("x", "int", 0)],
)
def test_bounds_always_contain_the_default(name, annotation, default):
    lo, hi = default_bounds(name, annotation, default)
    assert lo <= default <= hi
    assert hi >= 1000  # room beyond magicgui's silent 999 maximum


def test_literal_text_reads_back_as_its_value():
    for value in (0.005, 3, "reflect", [1.5, 2.0], {"disk": 2}, None):
        assert parse_value("" if value is None else repr(value)) == value
    nan = parse_value("nan")
    assert nan != nan
    assert parse_value("2") == 2
    with pytest.raises(ValueError, match="order"):
        parse_value("two", "order")


def test_specs_module_does_not_import_magicgui():
    import subprocess
    import sys

    code = (
        "import sys, napari_openhcs.registry.specs as s;"
        "from napari_openhcs.registry.info import ParamSpec;"
        "s.parse_value('1.0'); s.default_bounds('a', 'float', 1.0);"
        "print('magicgui' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr

"""Parameter specs: the type of each parameter (kind, choices, bounds, default, doc), read
without importing the library's heavy dependencies and without naming any widget.

Types come from annotations, then from defaults, then from the numpydoc ``Parameters``
section (``registry/docstrings.py``), then from the reviewed override table
(``registry/overrides.py``). Every spec gets bounds wide enough that its default is never
clamped by a form. The GUI chooses a widget per spec (``gui/_param_widgets.py``); text a user
types is read back by ``parse_value``.
"""

from __future__ import annotations

import ast
import inspect
import re
import types
import typing
from typing import Any

from napari_openhcs.registry.docstrings import choices_from_doc, parse_numpydoc, type_from_doc
from napari_openhcs.registry.info import ParamSpec
from napari_openhcs.registry.overrides import COMMON, overrides_for

#: Parameters never shown or passed: the pipeline owns them (stacks are (n, y, x), one plane
#: at a time) or they are outputs/handles rather than settings.
EXCLUDED = frozenset(
    {
        "channel_axis",
        "multichannel",
        "out",
        "output",
        "output_image",
        "rng",
        "random_state",
        "seed",
        "workers",
        "num_workers",
        "n_jobs",
        "return_num",
        "device",
        "stream",
        "plot",
        "verbose",
        "copy",
        "inplace",
        "mask",
        "labels_out",
    }
)

#: Required parameters that take a second image (pyclesperanto's two-image operations and
#: intensity/label maps; scikit-image's inpainting, random walker, histogram matching). The
#: override table marks others (``{"annotation": "image"}``). Their spec has
#: ``annotation="image"`` and the default ``{"image": "previous"}``; a pipeline step names
#: another source (see ``vocabulary.image_ref``).
IMAGE_PARAMETERS = frozenset({"input_image1", "mask", "labels", "reference"})
IMAGE_DEFAULT = {"image": "previous"}
#: How an objects parameter's doc ends: the form of its value.
OBJECTS_DOC = '(an object set: {"objects": "<earlier step>"}, its labels)'


def _type_from_annotation(annotation: Any) -> tuple[str | None, tuple | None, bool]:
    """(annotation string, choices, optional) from a Python annotation."""
    if annotation is inspect.Parameter.empty or annotation is None:
        return None, None, False
    if isinstance(annotation, str):
        text = annotation.replace(" ", "")
        optional = "None" in text or "Optional" in text
        for name in ("bool", "int", "float", "str"):
            if re.fullmatch(rf"(Optional\[)?{name}(\]|\|None)?", text):
                return name, None, optional
        return None, None, optional
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return "str" if all(isinstance(a, str) for a in args) else "any", tuple(args), False
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            kind, choices, _ = _type_from_annotation(rest[0])
            return kind, choices, optional
        kinds = {_type_from_annotation(a)[0] for a in rest}
        if kinds <= {"int", "float"}:
            return "float", None, optional
        return None, None, optional
    if annotation in (bool, int, float, str):
        return annotation.__name__, None, False
    return None, None, False


def _type_from_default(default: Any) -> str | None:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    if (
        isinstance(default, (tuple, list))
        and default
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in default)
    ):
        return (
            "tuple[int, ...]" if all(isinstance(v, int) for v in default) else "tuple[float, ...]"
        )
    return None


def default_bounds(name: str, annotation: str, default: Any) -> tuple | None:
    """Bounds for a numeric parameter that always contain its default."""
    if annotation not in ("int", "float"):
        return None
    lo, hi = (0, 1000) if annotation == "int" else (0.0, 1000.0)
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        value = float(default)
        if value != value or abs(value) == float("inf"):
            return None
        if value < lo:
            lo = -max(1000.0, abs(value) * 10)
        if value > hi:
            hi = value * 10
        if annotation == "int":
            lo, hi = int(lo), int(hi)
    if any(
        k in name
        for k in (
            "offset",
            "shift",
            "delta",
            "threshold",
            "low",
            "high",
            "min",
            "max",
            "value",
            "constant",
            "cval",
            "alpha",
            "beta",
            "angle",
        )
    ):
        lo = -hi
    return (lo, hi)


def param_specs(
    func: Any,
    ref: str,
    overrides: dict | None = None,
    image_params: tuple[str, ...] = (),
    object_params: tuple[str, ...] = (),
) -> tuple[ParamSpec, ...]:
    """The specs of every parameter of ``func`` after the first (the image).

    Parameters
    ----------
    func : callable
        The library function.
    ref : str
        Its public reference (selects overrides).
    overrides : dict, optional
        ``{param: {field: value}}`` applied last; ``{param: None}`` excludes a parameter.
        By default the reviewed table in ``registry.overrides`` for ``ref``.
    image_params : tuple of str
        Parameters the function declares as second images (``declare(image_params=...)``).
    object_params : tuple of str
        Parameters the function declares as second object sets
        (``declare(object_params=...)``): annotation ``"objects"``, required, no default
        (a pipeline names the earlier step: ``{"objects": "nuclei"}``).

    Returns
    -------
    tuple of ParamSpec
        Raises ``ValueError`` when a required parameter cannot be given a value (the
        function is then left out of the registry).
    """
    if overrides is None:
        overrides = overrides_for(ref)
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return ()
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - unresolvable forward references: use raw annotations
        hints = {}
    docs = parse_numpydoc(getattr(func, "__doc__", None))
    params = list(sig.parameters.values())[1:]
    specs = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        override = overrides.get(p.name, {}) if overrides else {}
        if p.name in object_params:
            doc_text = docs.get(p.name, ("", ""))[1]
            specs.append(
                ParamSpec(
                    name=p.name,
                    annotation="objects",
                    default=None,
                    required=True,
                    doc=(doc_text.split(". ")[0][:160] + " " if doc_text else "") + OBJECTS_DOC,
                )
            )
            continue
        image_param = (
            (override or {}).get("annotation") == "image"
            or p.name in image_params
            or (p.name in IMAGE_PARAMETERS and p.default is p.empty and override is not None)
        )
        if image_param:
            doc_type, doc_text = docs.get(p.name, ("", ""))
            specs.append(
                ParamSpec(
                    name=p.name,
                    annotation="image",
                    default=dict(IMAGE_DEFAULT),
                    required=True,
                    doc=(doc_text.split(". ")[0][:160] + " " if doc_text else "")
                    + '(an image: {"image": "previous" | "start" | step name, "channel": c})',
                )
            )
            continue
        if override is None or (p.name in EXCLUDED and not override):
            if p.default is p.empty:
                raise ValueError(f"{ref}: required parameter {p.name!r} cannot be excluded")
            continue
        default = None if p.default is p.empty else p.default
        required = p.default is p.empty
        if not required and default is not None and _jsonable(default) is None and not override:
            # A sentinel (a deprecated parameter) or a callable: not a setting for a form.
            continue
        kind, choices, optional = _type_from_annotation(hints.get(p.name, p.annotation))
        doc_type, doc_text = docs.get(p.name, ("", ""))
        if kind is None:
            kind = _type_from_default(default) or type_from_doc(doc_type)
            if kind == "int" and type_from_doc(doc_type) == "float":
                kind = "float"  # ``sigma=1`` documented as a float
        if choices is None and doc_type:
            choices = choices_from_doc(doc_type)
            if choices and kind is None:
                kind = "str" if all(isinstance(c, str) for c in choices) else "any"
        if default is None and not required:
            optional = True
        if "footprint" in p.name or p.name in ("selem", "structure"):
            kind = "footprint"
        spec = dict(
            name=p.name,
            annotation=kind or "any",
            default=_jsonable(default),
            required=required,
            optional=optional,
            choices=choices,
            bounds=None,
            doc=doc_text.split(". ")[0][:200],
        )
        for key, value in (COMMON.get(p.name) or {}).items():
            if spec[key] in (None, "any") or (key == "annotation" and spec[key] == "any"):
                spec[key] = value
        spec.update(override)
        if spec["bounds"] is None:
            spec["bounds"] = default_bounds(p.name, spec["annotation"], spec["default"])
        if spec["choices"] is not None and spec["default"] not in spec["choices"]:
            if spec["default"] is None:
                spec["optional"] = True
            else:
                spec["choices"] = (*spec["choices"], spec["default"])
        if spec["required"] and spec["default"] is None:
            raise ValueError(f"{ref}: required parameter {p.name!r} has no reviewed default")
        specs.append(ParamSpec(**spec))
    return tuple(specs)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, range):
        return list(value)
    if isinstance(value, (tuple, list)):
        items = [_jsonable(v) for v in value]
        return items if all(v is not _UNSET for v in items) else None
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            return None
    return None


_UNSET = object()


def parse_value(text: str, name: str = "parameter") -> Any:
    """A parameter value from the text a user wrote: a Python literal, ``nan``/``inf`` as
    floats, ``None`` for empty text.

    Raises ``ValueError`` (naming the parameter) for text that is none of those.

    >>> parse_value("[1, 2]"), parse_value(" "), parse_value("-inf")
    ([1, 2], None, -inf)
    """
    text = str(text).strip()
    if not text:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    try:
        return float(text)  # nan, inf, -inf: repr() of those floats is not a literal
    except ValueError as exc:
        raise ValueError(
            f"{name}: {text!r} is not a value (write a number, a list such as "
            "[1, 2], a quoted text or leave it empty)"
        ) from exc

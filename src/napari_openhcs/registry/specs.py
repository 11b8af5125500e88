"""Parameter specs: what a form needs to know about each parameter, without the library.

Types come from annotations, then from defaults, then from the numpydoc ``Parameters``
section, then from the reviewed override table (``registry/overrides.py``). Every spec gets
bounds wide enough that its default is never clamped by a form.
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import Any

from napari_openhcs.registry.info import ParamSpec

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
#: another source (see ``registry.reference.image_ref``).
IMAGE_PARAMETERS = frozenset({"input_image1", "mask", "labels", "reference"})
IMAGE_DEFAULT = {"image": "previous"}

_NUMPY_TYPES = {"float": "float", "int": "int", "bool": "bool", "str": "str"}
_QUOTES = "'\"\u2018\u2019`"
_DOC_ENTRY = re.compile(r"^(\w+)\s*:\s*(.+)$")


def _doc_sections(doc: str) -> dict[str, list[str]]:
    """Lines of each numpydoc section (``{"parameters": [...], "other parameters": [...]}``)."""
    lines = inspect.cleandoc(doc).splitlines()
    sections: dict[str, list[str]] = {}
    current = None
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"\s*-{3,}\s*", nxt):
            current = line.strip().lower()
            sections[current] = []
        elif current is not None and not re.fullmatch(r"\s*-{3,}\s*", line):
            sections[current].append(line)
    return sections


def parse_numpydoc(doc: str | None) -> dict[str, tuple[str, str]]:
    """``{name: (type line, description)}`` from the numpydoc ``Parameters`` and
    ``Other Parameters`` sections."""
    if not doc:
        return {}
    sections = _doc_sections(doc)
    out: dict[str, tuple[str, str]] = {}
    for title in ("parameters", "other parameters"):
        current = None
        for line in sections.get(title, ()):
            if line and not line[0].isspace():
                entry = _DOC_ENTRY.match(line.strip())
                if entry:
                    for name in entry.group(1).split(","):
                        current = name.strip()
                        out[current] = (entry.group(2).strip(), "")
                else:
                    current = None
            elif current and line.strip():
                kind, desc = out[current]
                out[current] = (kind, (desc + " " + line.strip()).strip())
    return out


def _choices_from_doc(type_line: str) -> tuple | None:
    m = re.search(r"\{([^}]*)\}", type_line)
    if not m:
        return None
    values = []
    for raw in m.group(1).split(","):
        raw = raw.strip()
        if raw[:1] in _QUOTES or raw[-1:] in _QUOTES:
            values.append(raw.strip(_QUOTES))
        elif raw in ("None",):
            continue
        else:
            try:
                values.append(int(raw))
            except ValueError:
                try:
                    values.append(float(raw))
                except ValueError:
                    values.append(raw)
    return tuple(values) or None


def _type_from_doc(type_line: str) -> str | None:
    t = type_line.lower()
    if "{" in t:
        return None
    for word, kind in (
        ("bool", "bool"),
        ("int", "int"),
        ("float", "float"),
        ("scalar", "float"),
        ("str", "str"),
    ):
        m = re.search(rf"\b{word}", t)
        if m:
            seq = re.search(r"sequence|tuple|array|iterable|list", t)
            if seq and seq.start() < m.start():  # "sequence of floats", not "float or sequence"
                return "tuple[float, ...]" if kind in ("float", "int") else "any"
            return kind
    return None


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
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
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
    func: Any, ref: str, overrides: dict | None = None, image_params: tuple[str, ...] = ()
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

    Returns
    -------
    tuple of ParamSpec
        Raises ``ValueError`` when a required parameter cannot be given a value (the
        function is then left out of the registry).
    """
    if overrides is None:
        from napari_openhcs.registry.overrides import overrides_for

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
            kind = _type_from_default(default) or _type_from_doc(doc_type)
            if kind == "int" and _type_from_doc(doc_type) == "float":
                kind = "float"  # ``sigma=1`` documented as a float
        if choices is None and doc_type:
            choices = _choices_from_doc(doc_type)
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
        from napari_openhcs.registry.overrides import COMMON

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


# -- forms ----------------------------------------------------------------------------------
# One small mapping from a spec to a magicgui-native widget, shared by the GUI and its test.
# It returns plain Python types and option dicts only; magicgui is never imported here.
#
# - int / float: a spin box with ``min``/``max`` from the bounds (never clamping the default);
# - bool: a check box; str / int with choices: a combo box (``nullable`` when None is allowed);
# - footprint ``{"disk": 5}``: a ``(shape, size)`` tuple edit (a shape combo box + a size spin
#   box); multi-size footprints (``{"rectangle": [3, 5]}``) fall back to literal text;
# - tuple[float, ...] / tuple[int, ...]: a list edit (an empty list means None);
# - everything else, and numbers whose default is None: a line edit holding a Python literal
#   (empty text means None; ``nan``/``inf`` are read as floats), parsed back by ``spec_value``.

_PLAIN = {"int": int, "float": float, "bool": bool, "str": str}
_SEQUENCES = {"tuple[float, ...]": float, "tuple[int, ...]": int}


def widget_kind(spec: ParamSpec) -> str:
    """How a form shows ``spec``: ``footprint``, ``choice``, ``sequence``, ``plain`` or
    ``literal`` (see the mapping above)."""
    if spec.annotation == "footprint":
        from napari_openhcs.registry.reference import FOOTPRINT_SHAPES

        d = spec.default
        ok = (
            isinstance(d, dict)
            and len(d) == 1
            and next(iter(d)) in FOOTPRINT_SHAPES
            and isinstance(next(iter(d.values())), int)
        )
        return "footprint" if ok else "literal"
    if spec.choices is not None:
        return "choice"
    if spec.annotation in _SEQUENCES:
        return "sequence" if spec.default is None or isinstance(spec.default, list) else "literal"
    if isinstance(spec.default, float) and spec.default != spec.default:
        return "literal"  # NaN ("use the image's own value"): a spin box cannot show it
    if spec.annotation in _PLAIN and spec.default is not None:
        return "plain"
    if spec.annotation == "str":
        return "plain"
    return "literal"


def widget_annotation(spec: ParamSpec) -> Any:
    """The Python type a form widget is built for (magicgui's ``annotation=``).

    See the mapping above; values go through ``widget_value`` and come back through
    ``spec_value``.
    """
    kind = widget_kind(spec)
    if kind == "footprint":
        from napari_openhcs.registry.reference import FOOTPRINT_SHAPES

        return tuple[typing.Literal[FOOTPRINT_SHAPES], int]
    if kind == "sequence":
        return list[_SEQUENCES[spec.annotation]]
    if kind == "choice":
        types = {type(c) for c in spec.choices}
        return types.pop() if len(types) == 1 else object
    if kind == "plain":
        return _PLAIN[spec.annotation]
    return str


def widget_options(spec: ParamSpec) -> dict:
    """magicgui widget options: choices, or min/max/step that never clamp the default."""
    kind = widget_kind(spec)
    options: dict[str, Any] = {}
    if kind == "choice":
        options["choices"] = list(spec.choices)
        if spec.optional or spec.default is None:
            options["nullable"] = True
    elif kind == "plain" and spec.annotation in ("int", "float") and spec.bounds is not None:
        lo, hi = spec.bounds
        if lo is not None:
            options["min"] = lo
        if hi is not None:
            options["max"] = hi
        if spec.annotation == "float":
            options["step"] = _float_step(spec.default)
    return options


def _float_step(default: Any) -> float:
    """A spin-box step fine enough that the default shows all its decimals (magicgui shows
    as many decimals as the step needs, two at least)."""
    text = repr(float(default)) if isinstance(default, (int, float)) else "0.0"
    if "e-" in text:
        mantissa, exponent = text.split("e-")
        digits = int(exponent) + len(mantissa.partition(".")[2].rstrip("0"))
    elif "e" in text:
        digits = 0
    else:
        digits = len(text.partition(".")[2].rstrip("0"))
    return 0.1 if digits <= 1 else 10.0**-digits


def widget_value(spec: ParamSpec, value: Any = _UNSET) -> Any:
    """``value`` (default: the spec's default) as the widget of ``widget_annotation`` holds it."""
    value = spec.default if value is _UNSET else value
    kind = widget_kind(spec)
    if kind == "footprint" and isinstance(value, dict):
        ((shape, size),) = value.items()
        return (shape, size)
    if kind == "sequence":
        return [] if value is None else list(value)
    if kind == "plain" and spec.annotation == "str":
        return "" if value is None else value
    if kind == "literal":
        return "" if value is None else repr(value)
    return value


def spec_value(spec: ParamSpec, value: Any) -> Any:
    """The parameter value from a widget value (inverse of ``widget_value``).

    Raises ``ValueError`` for literal text that is not a Python literal.
    """
    import ast

    kind = widget_kind(spec)
    if kind == "footprint":
        shape, size = value
        return {shape: int(size)}
    if kind == "sequence":
        return list(value) if value else None
    if kind == "plain" and spec.annotation == "str":
        return None if value == "" and spec.optional else value
    if kind == "literal":
        text = str(value).strip()
        if not text:
            return None
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            pass
        try:
            return float(text)  # nan, inf, -inf
        except ValueError as exc:
            raise ValueError(
                f"{spec.name}: {text!r} is not a value (write a number, a list such as "
                "[1, 2], a quoted text or leave it empty)"
            ) from exc
    return value

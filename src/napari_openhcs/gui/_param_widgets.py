"""The one map from a registry parameter spec to a magicgui widget (the dock's forms use it).

The registry describes each parameter's type (``ParamSpec``: kind, choices, bounds, default,
doc); this module chooses its widget. ``param_annotation`` turns a spec and the value to show
into an annotation, and ``PARAMETER_TYPES`` (a copy of magicgui's type map, with this
package's types added through ``register_type``) turns the annotation into a widget. Every
widget's ``value`` is the parameter value itself, whatever the widget shows:

- int / float: a spin box with ``min``/``max`` from the bounds (never clamping the value);
- bool: a check box; choices: a combo box (``nullable`` when None is allowed);
- ``Footprint`` ``{"disk": 5}``: a shape combo box and a size spin box (``FootprintEdit``);
  multi-size footprints (``{"rectangle": [3, 5]}``) fall back to literal text;
- ``list[float]`` / ``list[int]`` (``tuple[..., ...]`` specs): a list edit where an empty
  list means None (``SequenceEdit``);
- ``OptionalText``: a line edit where empty text means None;
- ``ImageSource``: a combo box of this step's image, the raw images and earlier outputs;
- ``ObjectsSource`` (annotation ``"objects"``): a combo box of the earlier steps whose
  result is labels, values ``{"objects": name}``; a value naming none of them (a removed or
  renamed step) stays, shown as invalid;
- ``LiteralText``, for everything else and for numbers whose value is None or NaN: a line
  edit holding a Python literal, read back by the registry's ``parse_value``.
"""

from __future__ import annotations

from typing import Any, Literal

from magicgui.type_map import TypeMap
from magicgui.types import Undefined
from magicgui.widgets import ComboBox, LineEdit, ListEdit, TupleEdit

from napari_openhcs.gui._browser import readable_doc
from napari_openhcs.registry.info import ParamSpec
from napari_openhcs.registry.specs import parse_value
from napari_openhcs.vocabulary import FOOTPRINT_SHAPES, image_ref, objects_ref


class Footprint(dict):
    """A footprint spec with one integer size, such as ``{"disk": 5}``."""


class ImageSource(dict):
    """A second image: ``{"image": source, "channel": c}`` or ``{"plate_step": name}``."""


class ObjectsSource(dict):
    """An earlier step's object set: ``{"objects": name}``."""


#: What an objects parameter's box says when its value names no earlier object set.
NOT_AN_OBJECT_SET = "not an earlier object set"
INVALID_STYLE = "color: #e05050;"


class OptionalText(str):
    """Text where empty means None."""


class LiteralText:
    """Any value, written as a Python literal (empty text means None)."""


class FootprintEdit(TupleEdit):
    """A footprint as a shape and a size; ``value`` is ``{shape: size}``."""

    def __init__(self, value: Any = Undefined, **kwargs: Any) -> None:
        kwargs["annotation"] = tuple[Literal[FOOTPRINT_SHAPES], int]
        super().__init__(value=Undefined if value is Undefined else _pair(value), **kwargs)

    @property
    def pair(self) -> tuple[str, int]:
        """What the widget shows: ``(shape, size)``."""
        return super().get_value()

    def get_value(self) -> dict:
        shape, size = self.pair
        return {shape: int(size)}

    def set_value(self, value: Any) -> None:
        super().set_value(_pair(value))


def _pair(value: Any) -> tuple[str, int]:
    if isinstance(value, dict):
        ((shape, size),) = value.items()
        return (shape, size)
    return tuple(value)


class SequenceEdit(ListEdit):
    """A list of numbers; ``value`` is the list, or None when it is empty."""

    def __init__(self, value: Any = Undefined, **kwargs: Any) -> None:
        super().__init__(value=[] if value is None else value, **kwargs)

    def get_value(self) -> list | None:
        return super().get_value() or None

    def set_value(self, value: Any) -> None:
        super().set_value([] if value is None else value)


class OptionalTextEdit(LineEdit):
    """A line edit whose empty text is None."""

    def get_value(self) -> str | None:
        return super().get_value() or None

    def set_value(self, value: Any) -> None:
        super().set_value("" if value is None else value)


class LiteralEdit(LineEdit):
    """A line edit holding a Python literal; ``value`` is the parsed value.

    Text that is no literal reads back as the text itself, so the pipeline check names the
    parameter whose value is wrong.
    """

    def get_value(self) -> Any:
        text = super().get_value()
        try:
            return parse_value(text, self.name)
        except ValueError:
            return text.strip()

    def set_value(self, value: Any) -> None:
        super().set_value("" if value is None else repr(value))


#: The type map of parameter forms: magicgui's own, plus this package's parameter types.
PARAMETER_TYPES = TypeMap.global_instance().copy()
PARAMETER_TYPES.register_type(Footprint, widget_type=FootprintEdit)
PARAMETER_TYPES.register_type(ImageSource, widget_type=ComboBox)
PARAMETER_TYPES.register_type(ObjectsSource, widget_type=ComboBox)
PARAMETER_TYPES.register_type(OptionalText, widget_type=OptionalTextEdit)
PARAMETER_TYPES.register_type(LiteralText, widget_type=LiteralEdit)
PARAMETER_TYPES.register_type(list[float], widget_type=SequenceEdit)
PARAMETER_TYPES.register_type(list[int], widget_type=SequenceEdit)

_PLAIN = {"int": int, "float": float, "bool": bool}
_SEQUENCES = {"tuple[float, ...]": float, "tuple[int, ...]": int}


def _is_footprint(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)) in FOOTPRINT_SHAPES
        and isinstance(next(iter(value.values())), int)
    )


def param_annotation(spec: ParamSpec, value: Any = Undefined) -> Any:
    """The annotation the widget for ``spec`` holding ``value`` (default: the spec's default)
    is built for; ``PARAMETER_TYPES`` maps it to the widget (see the module docstring)."""
    value = spec.default if value is Undefined else value
    if spec.annotation == "objects":
        return ObjectsSource
    if spec.annotation == "image" and isinstance(value, dict):
        return ImageSource
    if spec.annotation == "footprint":
        return Footprint if _is_footprint(value) else LiteralText
    if spec.choices is not None:
        kinds = {type(c) for c in spec.choices}
        return kinds.pop() if len(kinds) == 1 else object
    if spec.annotation in _SEQUENCES:
        plain = value is None or isinstance(value, list)
        return list[_SEQUENCES[spec.annotation]] if plain else LiteralText
    if spec.annotation == "str" and (value is None or isinstance(value, str)):
        return OptionalText if spec.optional else str
    if isinstance(value, float) and value != value:
        return LiteralText  # NaN ("use the image's own value"): a spin box cannot show it
    if spec.annotation in _PLAIN and value is not None:
        return _PLAIN[spec.annotation]
    return LiteralText


def param_options(spec: ParamSpec, value: Any = Undefined, context: dict | None = None) -> dict:
    """magicgui widget options: choices, or min/max/step that never clamp ``value``.

    Image parameters get their sources from ``context`` (``earlier`` steps, plate
    ``channels`` and ``channel_names``, see ``image_sources``), objects parameters the
    earlier object sets (``objects``, see ``object_sets``).
    """
    value = spec.default if value is Undefined else value
    annotation = param_annotation(spec, value)
    options: dict[str, Any] = {}
    if annotation is ObjectsSource:
        options["choices"] = object_sets((context or {}).get("objects", []), value)
    elif annotation is ImageSource:
        context = context or {}
        options["choices"] = image_sources(
            context.get("earlier", []),
            context.get("channels", []),
            value,
            context.get("channel_names"),
        )
    elif spec.choices is not None:
        options["choices"] = list(spec.choices)
        if spec.optional or value is None:
            options["nullable"] = True
    elif annotation in (int, float) and spec.bounds is not None:
        lo, hi = spec.bounds
        if lo is not None:
            options["min"] = min(lo, value)
        if hi is not None:
            options["max"] = max(hi, value)
        if annotation is float:
            options["step"] = _float_step(spec.default)
    if annotation is int and must_be_odd(spec):
        options.update(min=max(3, options.get("min") or 3), step=2)
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


def param_widget(spec: ParamSpec, value: Any, context: dict | None = None):
    """The widget for ``spec`` holding ``value``: the one the map chooses, or literal text
    when the value does not fit it (a value outside the choices, say).

    ``context`` serves image parameters (see ``param_options``).
    """
    annotation = param_annotation(spec, value)
    label = spec.name if annotation in (ImageSource, ObjectsSource) else param_label(spec)
    try:
        w = PARAMETER_TYPES.create_widget(
            value=value,
            annotation=annotation,
            name=spec.name,
            label=label,
            options=param_options(spec, value, context),
        )
    except (TypeError, ValueError):
        w = LiteralEdit(value=value, name=spec.name, label=label)
    doc = readable_doc(spec.doc)
    w._openhcs_odd = must_be_odd(spec) and not isinstance(w, LiteralEdit)
    if w._openhcs_odd:
        doc = (doc + " " if doc else "") + "(odd, at least 3)"
    if isinstance(w, LiteralEdit):
        doc = (doc + " " if doc else "") + "(a Python literal; empty for None)"
    if annotation is ObjectsSource and not isinstance(w, LiteralEdit):
        doc = (doc + " " if doc else "") + "(an object set: an earlier step whose result is labels)"
        _mark_object_set(w, (context or {}).get("objects", []))
        w.changed.connect(lambda *_a: _mark_object_set(w, (context or {}).get("objects", [])))
    w.tooltip = doc or None
    return w


def _mark_object_set(w, names: list[str]) -> None:
    """Red text on an objects box whose value names no earlier object set."""
    w.native.setStyleSheet("" if is_object_set(w.value, names) else INVALID_STYLE)


#: units of parameters by a word of their name (the registry has none; these hold for the
#: image functions it lists, which work in pixels).
UNIT_WORDS = {
    "sigma": "px",
    "radius": "px",
    "distance": "px",
    "shift": "px",
    "area": "px²",
}


def param_unit(spec: ParamSpec) -> str:
    """The unit a parameter is given in ("px", "px²"), or ``""`` when not known."""
    if spec.annotation not in ("int", "float", "tuple[float, ...]", "tuple[int, ...]"):
        return ""
    words = spec.name.lower().split("_")
    for word, unit in UNIT_WORDS.items():
        if any(w.startswith(word) for w in words):
            return unit
    doc = (spec.doc or "").lower()
    if "size" in words and "pixel" in doc or "in pixels" in doc:
        return "px"
    return ""


def param_label(spec: ParamSpec) -> str:
    """The form label of a parameter: its name, with its unit when known."""
    unit = param_unit(spec)
    return f"{spec.name} ({unit})" if unit else spec.name


def must_be_odd(spec: ParamSpec) -> bool:
    """An integer the function needs odd (a neighbourhood with a centre pixel)."""
    doc = (spec.doc or "").lower()
    return spec.annotation == "int" and (doc.startswith("odd ") or " must be odd" in doc)


def channel_label(channel: Any, names: dict | None) -> str:
    """A channel's name from ``names`` (keys as strings or numbers), else ``channel <c>``."""
    name = (names or {}).get(channel) or (names or {}).get(_as_int(channel))
    return str(name) if name else f"channel {channel}"


def _as_int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def image_sources(
    earlier: list[tuple[str, str]],
    channels: list,
    value: Any = None,
    channel_names: dict | None = None,
) -> list[tuple[str, Any]]:
    """Choices for an image parameter: ``(label, value)`` for this step's image, the raw
    images and each earlier step's output (each also per plate channel), and each earlier
    plate step's result; ``value`` is kept when it is none of them.

    ``earlier`` is ``[(step name, scope), ...]`` of the steps before this one.
    """
    choices: list[tuple[str, Any]] = []

    def add(label: str, source: str) -> None:
        choices.append((label, {"image": source}))
        for c in channels:
            name = channel_label(c, channel_names)
            choices.append((f"{label}, {name}", {"image": source, "channel": c}))

    add("this image", "previous")
    add("raw images", "start")
    for name, scope in earlier:
        if scope == "plate":
            choices.append((f"plate step {name!r}", {"plate_step": name}))
        else:
            add(f"step {name!r}", name)
    if value is not None and all(v != value for _, v in choices):
        choices.append((repr(value), value))
    return choices


def is_object_set(value: Any, names: list[str]) -> bool:
    """Whether ``value`` names one of the object sets ``names``: ``{"objects": name}``, or
    the image form older pipelines use (``{"image": name, "channel": c}``)."""
    name = objects_ref(value)
    if name is None:
        ref = image_ref(value)
        name = ref["image"] if ref is not None else None
    return name is not None and name in names


def object_sets(names: list[str], value: Any = None) -> list[tuple[str, Any]]:
    """Choices for an objects parameter: ``(name, {"objects": name})`` for each earlier
    step whose result is labels (``names``, in step order).

    A ``value`` that is none of them is kept as a further choice: the image form of an
    earlier object set (older pipelines) under the set's name, anything else (a step
    removed, renamed, or whose result is no longer labels; no choice made yet) marked
    invalid, so the pipeline check names it instead of the form changing it silently.
    """
    choices: list[tuple[str, Any]] = [(name, {"objects": name}) for name in names]
    if all(v != value for _, v in choices):
        choices.append((_object_set_label(value, names), value))
    return choices


def _object_set_label(value: Any, names: list[str]) -> str:
    if value is None:
        return f"(none: {NOT_AN_OBJECT_SET})"
    ref = image_ref(value)
    name = objects_ref(value) or (ref["image"] if ref is not None else None)
    if name is not None and name in names:  # {"objects": n, "channel": c}, or the image form
        channel = value.get("channel")
        return name + (f" (channel {channel})" if channel is not None else "")
    shown = repr(name) if name is not None else repr(value)
    return f"{shown}: {NOT_AN_OBJECT_SET}"

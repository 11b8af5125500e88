"""The selected step's form: settings plus one magicgui widget per registry parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, LineEdit, Select
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

from napari_openhcs.errors import UnknownFunctionError
from napari_openhcs.gui._browser import library_name, title
from napari_openhcs.gui._param_widgets import channel_label, param_widget
from napari_openhcs.pipeline import Step
from napari_openhcs.pipeline.step import STEP_COMPONENTS, StepSettings, settings_of
from napari_openhcs.registry import call_defaults, get_info

#: output dtypes offered in the form (any NumPy dtype name is valid in a pipeline file)
DTYPES = ("keep", "plate", "uint8", "uint16", "float32")
NO_GROUP = "(none)"


@dataclass
class StepModel(StepSettings):
    """One dock step: a single registered function with the step's settings (the fields of
    ``StepSettings``, shared with ``Step``) and what the dock edits apart from them."""

    ref: str
    kwargs: dict = field(default_factory=dict)
    #: the group of a dict pattern shown in the form (a value of ``group_by``).
    group_value: str | None = None
    #: further functions of a chain, run after ``ref`` in order: ``[(ref, kwargs), ...]``.
    extra: list = field(default_factory=list)
    #: the other groups of a dict pattern (value -> chain): not edited here, never dropped.
    other_groups: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = self.name or ""

    def calls(self) -> list[tuple[str, dict]]:
        """The chain: ``[(ref, kwargs), ...]``."""
        return [(self.ref, self.kwargs), *self.extra]

    def to_step(self) -> Step:
        """The pipeline ``Step``."""
        chain = [(r, dict(k)) for r, k in self.calls()]
        call = chain[0] if len(chain) == 1 else chain
        grouped = bool(self.group_by and self.group_value)
        if grouped:
            func = {k: list(v) for k, v in self.other_groups.items() if k != str(self.group_value)}
            func[str(self.group_value)] = call
        else:
            func = call
        settings = settings_of(self)
        settings.update(
            name=self.name or None,
            variable_components=list(self.variable_components),
            group_by=self.group_by if grouped else None,
        )
        return Step(func=func, **settings)

    @classmethod
    def from_step(cls, step: Step) -> StepModel:
        """A model from a ``Step``: a dict pattern's first group is edited, the rest kept."""
        pattern = step.pattern
        group_value = None
        others: dict = {}
        if isinstance(pattern, dict):
            group_value, chain = next(iter(pattern.items()))
            others = {
                k: [(r, dict(kw)) for r, kw in v] for k, v in pattern.items() if k != group_value
            }
        else:
            chain = pattern
        ref, kwargs = chain[0]
        settings = settings_of(step)
        settings["variable_components"] = list(step.variable_components)
        return cls(
            ref=ref,
            kwargs=dict(kwargs),
            group_value=group_value,
            extra=[(r, dict(k)) for r, k in chain[1:]],
            other_groups=others,
            **settings,
        )


def gives_labels(model: StepModel) -> bool:
    """Whether the step's result is labels (an object set): the last function of its chain,
    or of any other group of its dict pattern, returns labels (``output_kind``)."""
    chains = [model.calls(), *model.other_groups.values()]
    for chain in chains:
        if chain:
            try:
                if get_info(chain[-1][0]).output_kind == "labels":
                    return True
            except UnknownFunctionError:  # an unknown function gives no object set
                continue
    return False


class StepForm(QWidget):
    """Edits one ``StepModel`` in place; ``changed`` after every edit.

    The function's parameters come first; the step's settings (stack along, group by, ...)
    are folded under the "Step settings" heading, so the parameters fit without scrolling.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: StepModel | None = None
        self.info = None
        self.settings = None
        self.params = None
        self.chain_forms: list = []
        self._headers: list = []
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e66;")
        self.error.hide()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.error)
        self._empty = QLabel("Select a step to edit it.")
        self._layout.addWidget(self._empty)
        self._chain_layout = QVBoxLayout()
        self._layout.addLayout(self._chain_layout)
        self.settings_toggle = QToolButton()
        self.settings_toggle.setText("Step settings")
        self.settings_toggle.setCheckable(True)
        self.settings_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.settings_toggle.setToolTip(
            "name, enabled, stack along, group by, only for, input, once for the plate, "
            "save output, output dtype"
        )
        self.settings_toggle.toggled.connect(self._fold)
        self.settings_toggle.hide()
        self._layout.addWidget(self.settings_toggle)
        self._settings_layout = QVBoxLayout()
        self._layout.addLayout(self._settings_layout)
        self._layout.addStretch(1)

    def show_error(self, message: str | None) -> None:
        """Show (or clear) the error of this step."""
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    def _fold(self, open_: bool) -> None:
        arrow = Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow
        self.settings_toggle.setArrowType(arrow)
        if self.settings is not None:
            self.settings.native.setVisible(open_)

    def _group_choices(self, group_by: str | None, keep: str | None = None) -> list:
        values = {str(v) for v in self._group_values.get(group_by or "", [])}
        if keep:
            values.add(keep)
        ordered = sorted(values, key=lambda v: (len(v), v))
        if group_by == "channel":
            return [(channel_label(v, self._channel_names), v) for v in ordered]
        return ordered

    def set_step(
        self,
        model: StepModel | None,
        group_values: dict | None = None,
        earlier: list[tuple[str, str]] | None = None,
        channel_names: dict | None = None,
        objects: list[str] | None = None,
    ) -> None:
        """Build the form for ``model`` (``group_values``: component -> plate values;
        ``earlier``: ``(name, scope)`` of the enabled steps before it, for image sources;
        ``channel_names``: channel -> name, shown instead of numbers; ``objects``: the
        names of the earlier per-well steps whose result is labels, for objects
        parameters)."""
        for w in (self.settings, *self.chain_forms):
            if w is not None:
                # a widget taken out of the form may still emit (a combo box losing its
                # choices): it must not write into the model any more
                w.changed.disconnect()
                w.native.setParent(None)
                w.native.deleteLater()
        for header in self._headers:
            header.setParent(None)
            header.deleteLater()
        self.settings = self.params = None
        self.chain_forms, self._headers = [], []
        self.model = model
        self._empty.setVisible(model is None)
        self.settings_toggle.setVisible(model is not None)
        if model is None:
            self.show_error(None)
            return
        self.info = get_info(model.ref)
        self._group_values = group_values or {}
        self._channel_names = dict(channel_names or {})
        self._defaults = []
        for i, (ref, kwargs) in enumerate(model.calls()):
            info = get_info(ref)
            defaults = {p.name: p.default for p in info.params}
            defaults.update(call_defaults(info))
            context = {
                # a plate step runs before the wells and apart from other plate steps
                "earlier": [] if model.scope == "plate" else list(earlier or []),
                "channels": list(self._group_values.get("channel", [])),
                "channel_names": self._channel_names,
                "objects": [] if model.scope == "plate" else list(objects or []),
            }
            widgets = [
                param_widget(p, kwargs.get(p.name, defaults[p.name]), context) for p in info.params
            ]
            box = Container(widgets=widgets, label=ref)
            box.native.setToolTip(info.doc)
            box.changed.connect(lambda *_a, i=i: self._params_changed(i))
            self._defaults.append(defaults)
            self.chain_forms.append(box)
            header = QLabel(
                f"<b>{title(info)}</b> · {library_name(info.library)}"
                f"<br><span style='color:gray'>{ref}</span>"
            )
            header.setToolTip(info.doc)
            if not widgets:
                header.setText(header.text() + "<br><i>no parameters</i>")
            self._headers.append(header)
            self._chain_layout.addWidget(header)
            self._chain_layout.addWidget(box.native)
        self.params = self.chain_forms[0]

        self.settings = Container(
            widgets=[
                LineEdit(value=model.name, name="name", label="step name"),
                CheckBox(value=model.enabled, name="enabled", label="enabled"),
                Select(
                    value=list(model.variable_components),
                    choices=list(STEP_COMPONENTS),
                    name="variable_components",
                    label="stack along",
                ),
                ComboBox(
                    value=model.group_by or NO_GROUP,
                    choices=[NO_GROUP, *STEP_COMPONENTS],
                    name="group_by",
                    label="group by",
                ),
                ComboBox(
                    value=model.group_value,
                    choices=self._group_choices(model.group_by, model.group_value) or [None],
                    name="group_value",
                    label="only for",
                    nullable=True,
                ),
                ComboBox(
                    value=model.input_source,
                    choices=["previous", "start"],
                    name="input_source",
                    label="input",
                ),
                CheckBox(
                    value=model.scope == "plate",
                    name="plate_scope",
                    label="once for the plate",
                    tooltip="run once on images of many wells (e.g. a flat-field estimate); "
                    'later steps take its result as {"plate_step": "<this step>"}',
                ),
                CheckBox(value=model.materialize, name="materialize", label="save output"),
                ComboBox(
                    value=model.output_dtype,
                    choices=sorted(set(DTYPES) | {model.output_dtype}),
                    name="output_dtype",
                    label="output dtype",
                ),
            ]
        )
        self.settings["variable_components"].native.setMaximumHeight(80)
        self.settings.changed.connect(self._settings_changed)
        self._settings_layout.addWidget(self.settings.native)
        self.settings.native.setVisible(self.settings_toggle.isChecked())

    def set_param(self, name: str, value: Any) -> None:
        """Set one parameter through its widget (as a user would)."""
        self.params[name].value = value

    def _params_changed(self, i: int) -> None:
        ref, old = self.model.calls()[i]
        kwargs = {}
        for w in self.chain_forms[i]:
            value = w.value
            if getattr(w, "_openhcs_odd", False) and isinstance(value, int) and value % 2 == 0:
                w.value = value + 1  # an even size has no centre: the next odd one
                return  # the widget's change comes back here with the odd value
            if value != self._defaults[i].get(w.name) or w.name in old:
                kwargs[w.name] = value
        if i == 0:
            self.model.kwargs = kwargs
        else:
            self.model.extra[i - 1] = (ref, kwargs)
        self.changed.emit()

    def _settings_changed(self, *_args) -> None:
        if getattr(self, "_updating", False):
            return
        s, m = self.settings, self.model
        m.name = s["name"].value
        m.enabled = s["enabled"].value
        m.variable_components = list(s["variable_components"].value)
        group_by = s["group_by"].value
        group_by = None if group_by == NO_GROUP else group_by
        if group_by != m.group_by:
            m.group_by = group_by
            m.other_groups = {}  # their values named another component
            choices = self._group_choices(group_by)
            self._updating = True
            try:
                s["group_value"].choices = choices or [None]
                first = choices[0] if choices else None
                s["group_value"].value = first[1] if isinstance(first, tuple) else first
            finally:
                self._updating = False
        m.group_value = s["group_value"].value
        m.input_source = s["input_source"].value
        m.scope = "plate" if s["plate_scope"].value else "unit"
        m.materialize = s["materialize"].value
        m.output_dtype = s["output_dtype"].value
        self.changed.emit()

"""The *Find (SAM 3)* part of the Segment & track widget: concept names and exemplar boxes.

Type one or several names ("parrotfish, sea urchin") in the *find* box; optionally press *Add
exemplar layer* and draw rectangles around examples on any frame (ticked *negative*: "not
this"), each for the concept chosen in *exemplars for*. :meth:`FindBox.concepts` turns both into
:class:`~ecoseg.prompts.Concept` records for :func:`ecoseg.napari._jobs.run_job`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from ecoseg.napari._from_layers import check_rectangles, concepts_from_layers, split_names
from ecoseg.napari._layers import META_KEY, layer_grid

__all__ = ["EXEMPLARS", "LABELS", "VISUAL", "FindBox"]

EXEMPLARS = "ecoseg exemplars"
#: The *exemplars for* choice of exemplars without a name (class "visual").
VISUAL = "(no name: visual)"
_POSITIVE = "lime"
_NEGATIVE = "red"


#: The labels of the controls that set ``ecoseg segment`` options, by the option: the box
#: shows them, and library messages name the options by them
#: (:func:`ecoseg.napari._check.napari_words`).
LABELS = {
    "--concepts": "find",
    "--detect-every": "detect every",
    "--as-video": "image folder as video frames",
}


class FindBox(QGroupBox):
    """Concept names, detection interval and the exemplar Shapes layer (SAM 3).

    Parameters
    ----------
    viewer : napari.Viewer
    video_layer : callable
        Returns the chosen video layer (or None): the exemplar layer takes its scale.
    """

    def __init__(self, viewer, video_layer):
        super().__init__("Find (SAM 3)")
        self.viewer = viewer
        self._video_layer = video_layer
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("parrotfish, sea urchin")
        self.find_edit.setToolTip(
            "What to find on every frame: one or several names, separated by commas"
        )
        self.detect_spin = QSpinBox()
        self.detect_spin.setRange(1, 10_000)
        self.detect_spin.setToolTip("Run the concept detector on every N-th frame")
        self.exemplar_combo = QComboBox()
        self.exemplar_combo.setToolTip("The concept the next exemplar boxes belong to")
        self.negative_check = QCheckBox("negative exemplar (not this)")
        self.as_video_check = QCheckBox(LABELS["--as-video"])
        self.as_video_check.setToolTip(
            "Track a folder of images as the frames of a video (--as-video); unticked, a "
            "folder of images is a photo survey: each photograph is searched on its own"
        )
        self.layer_btn = QPushButton("Add exemplar layer")
        self.layer_btn.setToolTip("A Shapes layer: draw rectangles around examples on any frame")
        self.layer_btn.clicked.connect(self.add_exemplar_layer)
        form = QFormLayout(self)
        form.addRow(LABELS["--concepts"], self.find_edit)
        form.addRow(LABELS["--detect-every"], self.detect_spin)
        form.addRow("", self.as_video_check)
        form.addRow(self.layer_btn)
        form.addRow("exemplars for", self.exemplar_combo)
        form.addRow("", self.negative_check)
        self.find_edit.textChanged.connect(self._names_changed)
        self.exemplar_combo.currentIndexChanged.connect(self._update_defaults)
        self.negative_check.toggled.connect(self._update_defaults)
        self._names_changed()

    def names(self) -> list[str]:
        """The names typed in the *find* box, in order, without repeats."""
        return split_names(self.find_edit.text())

    def _names_changed(self, *args) -> None:
        # keep the chosen name while it is still typed; otherwise the first name
        names = self.names()
        current = self.exemplar_combo.currentText()
        self.exemplar_combo.blockSignals(True)
        self.exemplar_combo.clear()
        self.exemplar_combo.addItems([*names, VISUAL])
        self.exemplar_combo.setCurrentIndex(names.index(current) if current in names else 0)
        self.exemplar_combo.blockSignals(False)
        self._update_defaults()

    def exemplar_layer(self):
        """The exemplar Shapes layer, or None."""
        return self.viewer.layers[EXEMPLARS] if EXEMPLARS in self.viewer.layers else None

    def add_exemplar_layer(self):
        """Create (or return) the exemplar Shapes layer, in rectangle mode."""
        layer = self.exemplar_layer()
        if layer is None:
            video = self._video_layer()
            scale, units = layer_grid(video)
            layer = self.viewer.add_shapes(
                ndim=3,
                name=EXEMPLARS,
                scale=scale,
                units=units,
                face_color="transparent",
                edge_width=2,
                features=pd.DataFrame(
                    {"concept": pd.Series(dtype=str), "positive": pd.Series(dtype=bool)}
                ),
                metadata={META_KEY: {"kind": "exemplars"}},
            )
            layer.events.data.connect(self._recolor)
            layer.mode = "add_rectangle"
        self._update_defaults()
        self.viewer.layers.selection.active = layer
        return layer

    def _concept_choice(self) -> str:
        text = self.exemplar_combo.currentText()
        return "" if text in ("", VISUAL) else text

    def _update_defaults(self, *args) -> None:
        layer = self.exemplar_layer()
        if layer is None:
            return
        positive = not self.negative_check.isChecked()
        layer.feature_defaults = {"concept": self._concept_choice(), "positive": positive}
        layer.current_edge_color = _POSITIVE if positive else _NEGATIVE

    def _recolor(self, event=None) -> None:
        layer = self.exemplar_layer()
        if layer is None or not len(layer.data) or "positive" not in layer.features:
            return
        pos = layer.features["positive"].to_numpy(bool)
        colors = [_POSITIVE if p else _NEGATIVE for p in pos]
        from napari.utils.colormaps.standardize_color import transform_color

        want = transform_color(colors)
        if np.asarray(layer.edge_color).shape != want.shape or not np.allclose(
            layer.edge_color, want
        ):
            layer.edge_color = colors

    def concepts(self, model: str = "sam3") -> tuple[Any, ...]:
        """The concepts to track: the typed names and the drawn exemplars (video pixels);
        none refused, naming ``model``."""
        layer = self.exemplar_layer()
        rects, feats = [], None
        if layer is not None and len(layer.data):
            check_rectangles(list(layer.shape_type), EXEMPLARS)
            keep = [k == "rectangle" for k in layer.shape_type]
            rects = [s for s, k in zip(layer.data, keep) if k]
            feats = layer.features[keep].reset_index(drop=True)
        return concepts_from_layers(self.names(), rects, feats, model)

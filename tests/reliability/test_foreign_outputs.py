"""Another tool's zarr store where a command writes a STORE: never replaced, even with
``--overwrite``, in one line that says why, before anything is written.

``--overwrite`` deleted a zarr group or array that ecoseg had not written (someone's data, a
zip archive of other files) and wrote a mask store in its place; ``synth`` and the concept
photo survey answered an output that could never be replaced with ``pass overwrite=True
(--overwrite)``, then refused ``--overwrite`` too. Stores are recognised by
``ecoseg.store.identify.not_replaceable``; an ecoseg store is still replaced. A group of
another tool holding only arrays named like ecoseg's (``labels``, ``time``) was taken for an
ecoseg store killed before its attributes were written, and replaced, until stop 53.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import zarr
from PIL import Image
from reliability_helpers import assert_one_line_error

import ecoseg

pytestmark = pytest.mark.bad_input

REFUSED = (
    "that is not an ecoseg mask store; ecoseg will not overwrite it (remove it yourself or "
    "choose another output path)"
)


def _zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "site A\n")


def _our_names(path):
    """A labelling tool's group whose arrays are named like ecoseg's (``labels``, ``time``),
    without ecoseg's attributes: ``--overwrite`` took it for a broken-off store and deleted it."""
    group = zarr.open_group(path, mode="w")
    group.create_array("labels", shape=(2, 8, 8), dtype="u1")[:] = 1
    group.create_array("time", shape=(2,), dtype="f8")[:] = [0.0, 0.5]


#: name -> (make it at a path, what the line calls it)
KINDS = {
    "group-attrs": (
        lambda p: zarr.open_group(p, mode="w").attrs.put({"site": "A"}),
        "a zarr group",
    ),
    "group-data": (
        lambda p: zarr.open_group(p, mode="w").create_array("depth", shape=(3,), dtype="f4"),
        "a zarr group",
    ),
    "group-our-names": (lambda p: _our_names(p), "a zarr group"),
    "array": (lambda p: zarr.create_array(p, shape=(3,), dtype="i4"), "a zarr array"),
    "v2-group": (lambda p: zarr.open_group(p, mode="w", zarr_format=2), "a zarr v2 group"),
    "zip": (_zip, "a zip archive"),
}


@pytest.fixture(scope="module")
def inputs(clip, tmp_path_factory):
    """A DAVIS export of the clip (for import) and a folder of two photos (a photo survey)."""
    root = tmp_path_factory.mktemp("inputs")
    ecoseg.export(clip.truth, "davis", root / "pngs")
    (root / "photos").mkdir()
    for i in range(2):
        Image.fromarray(np.full((32, 48, 3), 60 * i, np.uint8)).save(root / "photos" / f"{i}.png")
    return root


def _args(command, out, clip, inputs):
    """The command line writing a store at ``out`` (synth: its folder, out.parent)."""
    return {
        "segment": ["segment", clip.video, "-o", out, "--engine", "classical"],
        "import": [
            "import",
            inputs / "pngs",
            "--format",
            "davis",
            "--video",
            clip.video,
            "-o",
            out,
        ],
        "synth": ["synth", "-o", out.parent, "--frames", "3", "--size", "64x48"],
        "survey": ["segment", inputs / "photos", "-o", out, "--concepts", "coral"],
    }[command] + (["--random-weights"] if command == "survey" else [])


def _tree(root):
    return sorted((str(p), p.stat().st_size) for p in root.rglob("*") if p.is_file())


#: (command, kind): synth writes truth.zarr, a folder name, so no zip archive is there
CASES = [
    (command, kind)
    for command in ("segment", "import", "synth", "survey")
    for kind in KINDS
    if (command, kind) != ("synth", "zip")
]


@pytest.mark.parametrize(("command", "kind"), CASES)
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["", "overwrite"])
def test_another_tools_zarr_is_never_replaced(
    command, kind, overwrite, clip, inputs, tmp_path, cli, monkeypatch
):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was built before the output was refused")

    monkeypatch.setattr(ecoseg.sam3, "build", refuse)
    make, what = KINDS[kind]
    folder = tmp_path / "site"
    folder.mkdir()
    out = folder / ("truth.zip" if kind == "zip" else "truth.zarr")
    make(out)
    before = _tree(tmp_path)
    code, _, err = cli(*_args(command, out, clip, inputs), *overwrite)
    assert_one_line_error(code, err, f"{out}: {what} {REFUSED}")
    assert _tree(tmp_path) == before  # nothing replaced, nothing written beside it

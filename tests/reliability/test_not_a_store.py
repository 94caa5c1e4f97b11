"""Something that is no mask store given where a STORE is read: one line naming the path, what
is there and what a store is, from every command, in the user's words.

It quoted zarr's internals: ``notes.txt: not a zarr store (No group found in store
LocalStore('file://notes.txt') at path '')``, ``arr.zarr: not a zarr store (An array already
exists in store file://arr.zarr at path .)``, and a store whose zarr.json was damaged was said to
"hold a store" (its own arrays). ``segment --resume`` onto a text file said ``[Errno 17] File
exists``. All of them go through ``MaskStore.open`` (``ecoseg.store.identify.refusal``).
"""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest
import zarr
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import StoreError
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input

#: zarr/numcodecs internals and Python exception names that a refusal must not quote.
INTERNALS = re.compile(
    r"LocalStore|ZipStore|file://|zarr\.(?!json)|numcodecs|\b\w*(Error|Exception)\b"
)


def _text(path):
    path.write_text("field notes\n")


def _damaged(path, good):
    shutil.copytree(good, path)
    (path / "zarr.json").write_text('{"zarr_format": 3, "node_ty')


#: name -> (make it at a path (from the good store), what the line must say)
KINDS = {
    "text-file": (lambda p, g: _text(p), "a file, not a mask store (expected a store"),
    "empty-folder": (lambda p, g: p.mkdir(), "an empty folder, not a mask store"),
    "zarr-group": (
        lambda p, g: zarr.open_group(p, mode="w", zarr_format=3).attrs.put({"x": 1}),
        "not an ecoseg mask store (a zarr group without 'ecoseg' attributes",
    ),
    "zarr-array": (
        lambda p, g: zarr.create_array(p, shape=(3,), dtype="i4"),
        "a zarr array, not a mask store",
    ),
    "missing": (lambda p, g: None, "no such store"),
    # the video itself, given for its masks (it said "a file, not a mask store")
    "video-file": (
        lambda p, g: shutil.copy(g.parent / "clip.mp4", p),
        "a video, not a mask store (`ecoseg segment` makes one from it)",
    ),
    "damaged-zarr-json": (_damaged, "a damaged store: its zarr.json is not valid JSON (line 1"),
}

#: The commands that read a STORE, with S where the bad path goes and G a good store.
COMMANDS = {
    "info": ["info", "S"],
    "info-verify": ["info", "--verify", "S"],
    "measure": ["measure", "S", "-o", "{tmp}/tables"],
    "edit": ["edit", "S", "--delete", "1"],
    "edit-log": ["edit", "S", "--log"],
    "export": ["export", "S", "--format", "coco", "-o", "{tmp}/out.json"],
    "evaluate": ["evaluate", "S", "--truth", "G"],
    "evaluate-truth": ["evaluate", "G", "--truth", "S"],
    "report": ["report", "S", "-o", "{tmp}/report.html"],
    "report-truth": ["report", "G", "--truth", "S", "-o", "{tmp}/report.html"],
    "classify": ["classify", "S", "--train", "G"],
    "classify-train": ["classify", "G", "--train", "S"],
    "segment-resume": ["segment", "V", "-o", "S", "--engine", "classical", "--resume"],
}


#: (command, kind) pairs that are no refusal: ``--resume`` onto nothing makes the store; and
#: pairs refused in other words: ``info`` summarises a video (``info --verify`` says it checks a
#: STORE), and ``segment -o dive.mp4`` names the store to give (``tests/test_paths.py``).
MAKES_THE_STORE = {
    ("segment-resume", "missing"),
    *(("info", "video-file"), ("info-verify", "video-file"), ("segment-resume", "video-file")),
}


@pytest.mark.parametrize(
    ("command", "kind"),
    [(c, k) for k in KINDS for c in COMMANDS if (c, k) not in MAKES_THE_STORE],
)
def test_every_command_says_what_is_there(kind, command, clip, tmp_path, cli):
    make, says = KINDS[kind]
    if command in ("evaluate-truth", "report-truth") and kind == "empty-folder":
        says = "is neither a mask store nor a folder of PNG masks"  # PNG folders are truth too
    good = tmp_path / "good.zarr"
    shutil.copytree(clip.truth, good)
    shutil.copy(clip.video, tmp_path / "clip.mp4")
    names = {"text-file": "notes.txt", "video-file": "dive.mp4"}
    bad = tmp_path / names.get(kind, f"{kind}.zarr")
    make(bad, good)
    swap = {"S": str(bad), "G": str(good), "V": str(clip.video)}
    args = [swap.get(a, a.replace("{tmp}", str(tmp_path))) for a in COMMANDS[command]]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = cli(*args)
    line = assert_one_line_error(code, err, f"{bad}: ", says)
    assert not INTERNALS.search(line), line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no lock


#: Commands given a missing store (S) and an output that exists (O; no --overwrite), with G a
#: good store: report, export and evaluate named the output (``report.html: already exists;
#: pass --overwrite to replace it``), and a user who replaced it then met the missing store.
MISSING_BEFORE_EXISTING = {
    "measure": ["measure", "S", "-o", "O"],
    "export": ["export", "S", "--format", "coco", "-o", "O"],
    "export-davis": ["export", "S", "--format", "davis", "-o", "O"],
    "evaluate": ["evaluate", "S", "--truth", "G", "-o", "O"],
    "evaluate-truth": ["evaluate", "G", "--truth", "S", "-o", "O"],
    "report": ["report", "S", "-o", "O"],
    "classify": ["classify", "S", "--train", "G", "--save-model", "O"],
}


@pytest.mark.parametrize("command", MISSING_BEFORE_EXISTING)
def test_a_missing_store_is_named_before_an_output_that_exists(command, clip, tmp_path, cli):
    args = MISSING_BEFORE_EXISTING[command]
    out = tmp_path / {"measure": "tables", "export-davis": "pngs"}.get(command, "out")
    if command in ("measure", "export-davis"):  # an earlier output: a folder of the command's
        out.mkdir()
        (out / ("regions.csv" if command == "measure" else "00000.png")).write_bytes(b"")
    else:
        out = out.with_suffix({"report": ".html"}.get(args[0], ".json"))
        out.write_text("earlier output\n")
    missing = tmp_path / "nope.zarr"
    swap = {"S": str(missing), "G": str(clip.truth), "O": str(out)}
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = cli(*[swap.get(a, a) for a in args])
    line = assert_one_line_error(code, err, f"{missing}: no such store")
    assert str(out) not in line, line
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_a_missing_store_is_named_before_a_missing_truth(command, tmp_path, cli):
    """``report nope.zarr --truth nope2.zarr`` named the truth (the command checked its truths
    first): the store reported on comes first, as ``evaluate`` names it."""
    store, truth = tmp_path / "nope.zarr", tmp_path / "nope2.zarr"
    out = ["-o", tmp_path / "report.html"] if command == "report" else []
    code, _, err = cli(command, store, "--truth", truth, *out)
    line = assert_one_line_error(code, err, f"{store}: no such store")
    assert str(truth) not in line, line
    assert sorted(tmp_path.iterdir()) == []


def test_report_names_a_missing_store_before_its_page(clip, tmp_path):
    """``ecoseg.report`` checks its stores before ``out`` (the CLI's order, from Python)."""
    page = tmp_path / "report.html"
    page.write_text("earlier page\n")
    with pytest.raises(StoreError) as info:
        ecoseg.report([clip.truth, tmp_path / "nope.zarr"], page)
    assert_names(info, "nope.zarr: no such store")
    assert page.read_text() == "earlier page\n"


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        ("plain.zip", lambda p: p.write_text("no zip"), "a file that is not a zip archive"),
        (
            "other.zip",
            lambda p: zipfile.ZipFile(p, "w").close(),
            "a zip archive without zarr.json, not a mask store",
        ),
        ("dir.zip", lambda p: p.mkdir(), "a folder named .zip, not a mask store"),
        ("list.zarr", lambda p: (p.mkdir(), (p / "zarr.json").write_text("[1]")), "a JSON list"),
        ("blank.zarr", lambda p: (p.mkdir(), (p / "zarr.json").write_text(" ")), "is empty"),
        ("null.zarr", lambda p: (p.mkdir(), (p / "zarr.json").write_text("null")), "JSON null"),
        (
            "node.zarr",
            lambda p: (
                p.mkdir(),
                (p / "zarr.json").write_text('{"zarr_format": 3, "node_type": 1}'),
            ),
            "not a zarr v3 group's metadata (zarr_format 3, node_type 1)",
        ),
        (
            "v2array.zarr",
            lambda p: zarr.create_array(p, shape=(2,), dtype="i4", zarr_format=2),
            "a zarr v2 array, not a mask store",
        ),
    ],
)
@pytest.mark.parametrize("mode", ["r", "a"])
def test_open_says_what_else_is_there(name, make, says, mode, tmp_path):
    path = tmp_path / name
    make(path)
    with pytest.raises(StoreError) as info:
        MaskStore.open(path, mode)
    text = assert_names(info, f"{path}: ", says)
    assert not INTERNALS.search(text), text


def test_a_damaged_store_is_not_said_to_hold_stores(clip, tmp_path):
    """Its arrays were listed as stores it holds: ``damaged.zarr: not a zarr store (...); it
    holds a store: damaged.zarr/labels, damaged.zarr/scores, damaged.zarr/time``."""
    path = tmp_path / "damaged.zarr"
    _damaged(path, clip.truth)
    with pytest.raises(StoreError) as info:
        MaskStore.open(path)
    # said as damage ("damaged" alone is in the path: damaged.zarr)
    said = f"{path}: a damaged store: its zarr.json is not valid JSON"
    assert "holds a store" not in assert_names(info, said)


def test_a_report_truth_that_is_no_store_is_said_on_the_page(clip, tmp_path):
    """``ecoseg.report(truth=...)`` puts what it could not evaluate on the page (a study's truth
    may have moved away; ``ecoseg report --truth`` refuses it, above); it quoted zarr there too:
    ``could not evaluate: notes.txt: not a zarr store (No group found in store
    LocalStore('file://notes.txt') at path '')``."""
    import html

    notes = tmp_path / "notes.txt"
    _text(notes)
    page = tmp_path / "report.html"
    ecoseg.report(clip.truth, page, truth=str(notes))
    text = html.unescape(page.read_text())
    said = re.search(r"could not evaluate: ([^<]*)", text).group(1)
    assert said.startswith(f"{notes}: a file, not a mask store"), said
    assert not INTERNALS.search(said), said


@pytest.mark.parametrize("kind", ["text-file", "empty-folder", "folder"])
@pytest.mark.parametrize("command", ["segment", "import", "survey", "synth"])
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["", "overwrite"])
def test_an_output_that_is_no_store_is_refused_in_one_wording(
    kind, command, overwrite, clip, tmp_path, cli, monkeypatch
):
    """``segment -o notes.txt`` said ``already exists; pass overwrite=True (--overwrite) to
    replace it``, and with ``--overwrite`` that it is never replaced: now the second first.
    A concept photo survey (``survey``) and ``synth`` (its ``truth.zarr``) said the first
    until stop 51."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built before the output was refused")

    monkeypatch.setattr(ecoseg.sam3, "build", refuse)
    folder = tmp_path / "clip"
    folder.mkdir()
    name = {"text-file": "notes.txt", "empty-folder": "empty", "folder": "folder"}[kind]
    out = folder / ("truth.zarr" if command == "synth" else name)
    if kind == "text-file":
        _text(out)
    else:
        out.mkdir()
        if kind == "folder":
            (out / "dive-log.csv").write_text("site,depth\n")
    pngs = tmp_path / "pngs"
    ecoseg.export(clip.truth, "davis", pngs)
    args = {
        "segment": ["segment", clip.video, "-o", out, "--engine", "classical"],
        "import": ["import", pngs, "--format", "davis", "--video", clip.video, "-o", out],
        "survey": ["segment", pngs, "-o", out, "--concepts", "coral", "--random-weights"],
        "synth": ["synth", "-o", folder, "--frames", "3", "--size", "64x48"],
    }[command]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = cli(*args, *overwrite)
    what = {"text-file": "a file", "empty-folder": "an empty folder", "folder": "a folder"}[kind]
    assert_one_line_error(
        code,
        err,
        f"{out}: exists and is not a zarr store ({what}); refusing to replace it even with "
        "overwrite (choose another output path)",
    )
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_a_truth_folder_of_per_video_png_folders_names_them(command, clip, tmp_path, cli):
    """DAVIS keeps one folder of PNG masks per video (``Annotations/480p/<video>/``): given the
    folder above them, ``--truth`` said only ``is neither a mask store nor a folder of PNG
    masks``; it names the folders of PNG masks inside now, to give one of them."""
    davis = tmp_path / "Annotations"
    ecoseg.export(clip.truth, "davis", davis / "reef")
    (davis / "notes").mkdir()  # a folder without PNGs is not named
    out = ["-o", tmp_path / "r.html"] if command == "report" else []
    code, _, err = cli(command, clip.truth, "--truth", davis, *out)
    line = assert_one_line_error(code, err, str(davis), "PNG masks", str(davis / "reef"))
    assert str(davis / "notes") not in line


def test_a_truth_folder_of_jpeg_masks_says_masks_are_png(clip, tmp_path, cli):
    """Masks saved as JPEG (a photo editor's default): the folder was refused as *neither a
    mask store nor a folder of PNG masks* without a word on the JPEGs it holds."""
    from PIL import Image

    pngs, jpegs = tmp_path / "pngs", tmp_path / "masks"
    ecoseg.export(clip.truth, "davis", pngs)
    jpegs.mkdir()
    for png in sorted(pngs.glob("*.png"))[:3]:
        Image.open(png).convert("RGB").save(jpegs / f"{png.stem}.jpg")
    code, _, err = cli("evaluate", clip.truth, "--truth", jpegs)
    assert_one_line_error(code, err, str(jpegs), "00000.jpg", "not PNG", "PNG files only")


def test_a_jpeg_among_png_truth_masks_is_named_once(clip, tmp_path, cli):
    """One mask saved as JPEG among the PNGs was skipped without a word: only the note
    *scored on 23 of 24 frames* hinted at it. A warning names it, once, and the PNGs' frames
    are scored as before."""
    import warnings

    from PIL import Image

    from ecoseg.metrics import NotPngWarning

    masks = tmp_path / "masks"
    ecoseg.export(clip.truth, "davis", masks)
    png = sorted(masks.glob("*.png"))[3]
    Image.open(png).convert("RGB").save(masks / f"{png.stem}.jpg")
    png.unlink()
    code, out, err = cli("evaluate", clip.truth, "--truth", masks)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("ecoseg: warning: ")]
    jpg = masks / f"{png.stem}.jpg"
    assert len(lines) == 1 and f"{jpg}: not a PNG, not read" in lines[0], err
    assert "PNG files only" in lines[0] and "not scored" in lines[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ecoseg.evaluate(clip.truth, masks, progress=False)
    ours = [w for w in caught if issubclass(w.category, UserWarning)]
    assert [w.category for w in ours] == [NotPngWarning], [str(w.message) for w in ours]
    assert result["scored_frames"] == len(list(masks.glob("*.png"))) == result["frames"] - 1


def test_a_jpeg_among_png_masks_imported_as_davis_is_named_once(clip, tmp_path, cli):
    """``ecoseg import --format davis`` skipped a mask saved as JPEG among the PNGs without a
    word, its frame left empty; it now names it, once, as ``evaluate --truth`` does
    (:class:`ecoseg.metrics.NotPngWarning`), and imports the PNGs as before."""
    import warnings

    from PIL import Image

    from ecoseg.formats import import_annotations
    from ecoseg.metrics import NotPngWarning

    masks = tmp_path / "masks"
    ecoseg.export(clip.truth, "davis", masks)
    png = sorted(masks.glob("*.png"))[3]
    Image.open(png).convert("RGB").save(masks / f"{png.stem}.jpg")
    png.unlink()
    out = tmp_path / "imported.zarr"
    code, _, err = cli("import", masks, "--format", "davis", "--video", clip.video, "-o", out)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("ecoseg: warning: ")]
    said = [line for line in lines if "not a PNG" in line]
    jpg = masks / f"{png.stem}.jpg"
    assert len(said) == 1 and f"{jpg}: not a PNG, not read: its frame is not imported" in said[0]
    assert "masks are read from PNG files only" in said[0], err
    assert out.exists()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import_annotations(masks, "davis", clip.video, tmp_path / "again.zarr")
    assert [w.category for w in caught].count(NotPngWarning) == 1, [str(w.message) for w in caught]

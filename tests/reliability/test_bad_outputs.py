"""Outputs that would destroy what a user stored: refused with one line, the file untouched.

``--overwrite`` replaces an earlier output of the same command, never an input store, a video,
a folder of other files or anything the command could not have written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from reliability_helpers import assert_one_line_error

import ecoseg


def _tree(path):
    """Every file under ``path`` (or the file itself) with its bytes."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


#: Where a refusal holds even with --overwrite, it is said first, also without it: the line
#: said ``already exists; pass overwrite=True (--overwrite) to replace it``, and --overwrite
#: was then refused too.
OVERWRITE = pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["", "overwrite"])


@pytest.fixture
def store(clip, tmp_path):
    path = tmp_path / "masks.zarr"
    shutil.copytree(clip.truth, path)
    return path


@pytest.mark.bad_input
@pytest.mark.parametrize("fmt", ["coco", "davis"])
def test_export_never_replaces_its_own_store(fmt, store, cli):
    before = _tree(store)
    code, _, err = cli("export", store, "--format", fmt, "-o", store, "--overwrite")
    assert_one_line_error(code, err, str(store), "even with overwrite")
    assert _tree(store) == before


@pytest.mark.bad_input
@OVERWRITE
def test_export_never_replaces_a_folder_of_other_files(overwrite, store, tmp_path, cli):
    folder = tmp_path / "survey"
    folder.mkdir()
    (folder / "notes.txt").write_text("site A, 12 m")
    for fmt in ("mot", "davis"):
        code, _, err = cli("export", store, "--format", fmt, "-o", folder, *overwrite)
        assert_one_line_error(code, err, str(folder), "even with overwrite")
    assert (folder / "notes.txt").read_text() == "site A, 12 m"


@pytest.mark.bad_input
@OVERWRITE
def test_davis_export_never_replaces_a_file(overwrite, store, tmp_path, cli):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    code, _, err = cli("export", store, "--format", "davis", "-o", notes, *overwrite)
    assert_one_line_error(code, err, str(notes), "not a folder of PNG masks")
    assert notes.read_text() == "keep me"


@pytest.mark.bad_input
@pytest.mark.parametrize("name", ["legend.png", "frame_0001.png", "previews"])
def test_davis_export_never_replaces_a_png_folder_holding_what_it_did_not_write(
    name, store, tmp_path, cli
):
    """--overwrite replaced the whole folder of an earlier export, with a user's own PNG (or
    folder) in it; now refused, naming it (hidden files are kept: tests/formats)."""
    pngs = tmp_path / "pngs"
    assert cli("export", store, "--format", "davis", "-o", pngs)[0] == 0
    if name == "previews":
        (pngs / name).mkdir()
        (pngs / name / "00000.jpg").write_bytes(b"\xff\xd8")
    else:
        shutil.copy(pngs / "00000.png", pngs / name)
    before = _tree(pngs)
    code, _, err = cli("export", store, "--format", "davis", "-o", pngs, "--overwrite")
    assert_one_line_error(code, err, str(pngs), f"holds {name}", "even with overwrite")
    assert _tree(pngs) == before


@pytest.mark.bad_input
def test_a_refused_davis_export_keeps_the_earlier_folder(store, tmp_path, cli):
    """--overwrite removed the earlier PNGs before finding that an id does not fit a PNG."""
    import numpy as np

    from ecoseg.store import MaskStore

    big = tmp_path / "big.zarr"
    labels = np.zeros((2, 8, 8), np.uint32)
    labels[:, 2:4, 2:4] = 300
    with MaskStore.create(big, height=8, width=8, objects=[(300, "grouper", "truth")]) as s:
        s.append(labels, [0.0, 0.04])
        s.mark_complete()
    pngs = tmp_path / "pngs"
    assert cli("export", store, "--format", "davis", "-o", pngs)[0] == 0
    before = _tree(pngs)
    code, _, err = cli("export", big, "--format", "davis", "-o", pngs, "--overwrite")
    assert_one_line_error(code, err, "object id 300 does not fit an indexed PNG")
    assert _tree(pngs) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial folder


def test_overwrite_still_replaces_an_earlier_export(store, tmp_path, cli):
    for fmt, out in (("davis", tmp_path / "pngs"), ("coco", tmp_path / "masks.json")):
        assert cli("export", store, "--format", fmt, "-o", out)[0] == 0
        assert cli("export", store, "--format", fmt, "-o", out, "--overwrite")[0] == 0


@pytest.mark.bad_input
def test_evaluate_does_not_overwrite_a_file_without_overwrite(store, clip, tmp_path, cli):
    video = tmp_path / "video.mp4"
    shutil.copy(clip.video, video)
    before = video.read_bytes()
    code, _, err = cli("evaluate", store, "--truth", clip.truth, "-o", video)
    assert_one_line_error(code, err, str(video), "not a text file", "even with overwrite")
    assert video.read_bytes() == before
    code, _, err = cli("evaluate", store, "--truth", clip.truth, "-o", tmp_path, "--overwrite")
    assert_one_line_error(code, err, str(tmp_path), "folder")
    out = tmp_path / "metrics.json"
    assert cli("evaluate", store, "--truth", clip.truth, "-o", out)[0] == 0
    assert cli("evaluate", store, "--truth", clip.truth, "-o", out, "--overwrite")[0] == 0


@pytest.mark.bad_input
@OVERWRITE
def test_classify_never_saves_its_model_over_a_video_or_store(
    overwrite, store, clip, tmp_path, cli
):
    video = tmp_path / "video.mp4"
    shutil.copy(clip.video, video)
    before = video.read_bytes()
    for target in (video, store):
        kept = _tree(target)
        code, _, err = cli(
            "classify", store, "--train", store, "--train-video", video,
            "--save-model", target, *overwrite,
        )  # fmt: skip
        assert_one_line_error(code, err, str(target), "not an ecoseg species model")
        assert _tree(target) == kept
    assert video.read_bytes() == before


@pytest.mark.bad_input
def test_classify_names_the_training_stores_and_the_video_option(store, clip, cli):
    code, _, err = cli("edit", store, "--reviewed", "1")  # one reviewed track: one species
    assert code == 0, err
    code, _, err = cli("classify", store, "--train", store, "--train-video", clip.video)
    assert_one_line_error(code, err, str(store), "two species")
    video = str(clip.video)
    code, _, err = cli("classify", store, "--train", store, "--train-video", video, video)
    # the CLI names its flag alone (the library says train_videos (--train-video))
    line = assert_one_line_error(code, err, "--train-video: 2 videos given for 1 store")
    assert "train_videos" not in line, line
    assert cli("edit", store, "--reviewed", "2")[0] == 0  # a second species: training works
    code, _, err = cli(
        "classify", store, "--train", store, "--train-video", video, "--video", video, video
    )
    line = assert_one_line_error(code, err, "--video: 2 videos given for 1 store")
    assert "videos (" not in line, line


@pytest.mark.bad_input
@pytest.mark.parametrize("value", ["2", "-0.1", "nan"])
def test_score_threshold_out_of_range(value, clip, tmp_path, cli):
    code, _, err = cli(
        "segment", clip.video, "-o", tmp_path / "m.zarr", "--concepts", "fish",
        "--model", "sam3-reduced", "--random-weights", "--score-threshold", value,
    )  # fmt: skip
    assert_one_line_error(code, err, "--score-threshold")
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.bad_input
def test_score_threshold_without_concepts_is_refused(clip, tmp_path, cli):
    code, _, err = cli("segment", clip.video, "-o", tmp_path / "m.zarr", "--score-threshold", "0.3")
    assert_one_line_error(code, err, "--score-threshold needs --concepts")


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "extra",
    [
        ["--concepts", "fish", "--model", "sam3-reduced", "--engine", "classical"],
        ["--concepts", "fish", "--model", "sam3-reduced", "--auto"],
        ["--model", "sam3-reduced", "--engine", "sam2"],  # a SAM 3 model tracks concepts
    ],
    ids=["concepts-engine", "concepts-auto", "sam3-engine"],
)
def test_concept_tracking_refuses_an_engine_or_discovery(extra, clip, tmp_path, cli):
    """They were ignored without a word: the run tracked concepts with SAM 3 anyway."""
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, "--random-weights", *extra)
    assert_one_line_error(code, err, "SAM 3 concepts take no --engine and no --auto")
    assert not out.exists()


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("command", "extra", "flags"),
    [
        ("segment", ["--model", "sam2.1-large"], "--model is"),
        ("segment", ["--random-weights"], "--random-weights is"),
        ("segment", ["--engine", "classical", "--checkpoint", "CKPT"], "--checkpoint is"),
        ("batch", ["--model", "sam2.1-small", "--random-weights"], "--model, --random-weights are"),
    ],
    ids=["segment-model", "segment-random", "classical-checkpoint", "batch-model"],
)
def test_network_options_for_the_motion_tracker_are_refused(
    command, extra, flags, clip, tmp_path, cli
):
    """Without prompts or --auto a run uses the motion tracker: asking for a SAM 2 model ran
    the motion tracker without a word (the store said engine classical)."""
    checkpoint = tmp_path / "w.pt"
    checkpoint.write_bytes(b"weights")
    extra = [str(checkpoint) if a == "CKPT" else a for a in extra]
    out = tmp_path / "out"
    code, _, err = cli(command, clip.video, "-o", out, *extra)
    line = assert_one_line_error(code, err, f"{flags} for the sam2 engine's network")
    assert "classical motion tracker" in line
    assert not out.exists()


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("kwargs", "extra"),
    [
        ({"model": "sam2.1-large"}, ["--model", "sam2.1-large"]),
        ({"model": "sam2.1-tiny"}, ["--model", "sam2.1-tiny"]),  # the default, chosen
        ({"pretrained": False}, ["--random-weights"]),
        (
            {"engine": "classical", "checkpoint": "CKPT"},
            ["--engine", "classical", "--checkpoint", "CKPT"],
        ),
    ],
    ids=["model", "default-model-chosen", "random", "classical-checkpoint"],
)
def test_the_library_refuses_network_settings_for_the_motion_tracker(
    kwargs, extra, clip, tmp_path, cli
):
    """``ecoseg.segment(video, model="sam2.1-large")`` without prompts or ``auto`` ran the
    motion tracker without a word (its ``model`` defaulted to a name, so it could not tell a
    chosen model from none); now it refuses before any work, in the CLI's words, and
    ``ecoseg.batch`` refuses before its first task. No model still runs the motion tracker."""
    from ecoseg.batch import batch
    from ecoseg.errors import ConfigError

    checkpoint = tmp_path / "w.pt"
    checkpoint.write_bytes(b"weights")
    kwargs = {k: str(checkpoint) if v == "CKPT" else v for k, v in kwargs.items()}
    extra = [str(checkpoint) if a == "CKPT" else a for a in extra]
    out = tmp_path / "out.zarr"
    with pytest.raises(ConfigError) as refused:
        ecoseg.segment(clip.video, out=out, progress=False, **kwargs)
    code, _, err = cli("segment", clip.video, "-o", out, *extra)
    assert assert_one_line_error(code, err) == f"ecoseg: error: {refused.value}"
    assert "classical motion tracker" in str(refused.value)
    with pytest.raises(ConfigError, match="classical motion tracker"):
        batch([clip.video], tmp_path / "batch", progress=False, **kwargs)
    assert not out.exists() and not (tmp_path / "batch").exists()
    ecoseg.segment(clip.video, out=out, progress=False)  # no network settings: motion tracker
    assert ecoseg.open_masks(out).attrs["provenance"]["engine"] == "classical"


def test_score_threshold_reaches_concept_tracking(clip, tmp_path, cli):
    """On a video, --score-threshold was silently dropped (the store said 0.5)."""
    from ecoseg.store import MaskStore

    out = tmp_path / "m.zarr"
    code, _, err = cli(
        "segment", clip.video, "-o", out, "--concepts", "fish",
        "--model", "sam3-reduced", "--random-weights", "--score-threshold", "0.9",
    )  # fmt: skip
    assert code == 0, err
    assert MaskStore.open(out).provenance_record.parameters["score_threshold"] == 0.9
    code, _, err = cli(
        "segment", clip.video, "-o", tmp_path / "n.zarr", "--concepts", "fish",
        "--model", "sam3-reduced", "--random-weights", "--score-threshold", "0.9",
        "--params", '{"score_threshold": 0.2}',
    )  # fmt: skip
    assert_one_line_error(code, err, "score threshold once")


# --------------------------------------------------------------------------- one wording
WORDING = "already exists; pass --overwrite to replace it"


def _existing_output_cases(store, clip, tmp_path):
    """(command args, the existing output it must refuse), one per command with an output."""
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    page, earlier = tmp_path / "r.html", tmp_path / "earlier.json"  # a report, an export
    page.write_text("keep me")  # named as a file of another kind, they are refused even with
    earlier.write_text("keep me")  # --overwrite (test_an_output_named_as_another_kind_...)
    metrics = tmp_path / "metrics.json"  # an earlier evaluation's
    metrics.write_text("keep me")
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "demo.json").write_text("keep me")  # an earlier run's
    synth = tmp_path / "synth"  # an earlier clip (a user's own video.mp4: refused even with
    shutil.copytree(Path(clip.video).parent, synth)  # --overwrite, test_bad_own_outputs.py)
    tables = tmp_path / "tables"  # an earlier run's table (likewise)
    tables.mkdir()
    pd.DataFrame({"frame": [0], "time_s": [0.0]}).to_parquet(tables / "regions.parquet")
    video = str(clip.video)
    import ecoseg

    coco = ecoseg.export(store, "coco", tmp_path / "coco.json")
    from ecoseg.demo import species_model_path

    model = tmp_path / "species.json"  # an earlier model: --overwrite replaces it (notes.txt:
    shutil.copy(species_model_path(), model)  # never, so said first; test_classify_never_...)
    return {
        "segment": (("segment", video, "-o", store), store),
        "measure": (("measure", store, "-o", tables), tables / "regions.parquet"),
        "evaluate": (("evaluate", store, "--truth", clip.truth, "-o", metrics), metrics),
        "export": (("export", store, "--format", "coco", "-o", earlier), earlier),
        "import": (("import", coco, "--format", "coco", "--video", video, "-o", store), store),
        "report": (("report", store, "-o", page), page),
        "synth": (("synth", "-o", synth, "--frames", "2", "--size", "32x32"), synth / "video.mp4"),
        "demo": (("demo", "--out", demo), demo),
        "classify": (
            ("classify", store, "--train", store, "--train-video", video, "--save-model", model),
            model,
        ),
    }


COMMANDS_WITH_OUTPUTS = [
    "segment", "measure", "evaluate", "export", "import", "report", "synth", "demo", "classify",
]  # fmt: skip


@pytest.mark.bad_input
@pytest.mark.parametrize("command", COMMANDS_WITH_OUTPUTS)
def test_an_existing_output_is_refused_in_one_wording(command, store, clip, tmp_path, cli):
    """Four wordings before ("use --overwrite / overwrite=True", "pass --overwrite", "and is
    not empty", ...): now every command says it the same way, naming the output."""
    args, existing = _existing_output_cases(store, clip, tmp_path)[command]
    before = _tree(existing)
    code, _, err = cli(*args)
    assert_one_line_error(code, err, f"{existing}: {WORDING}")
    assert _tree(existing) == before


@pytest.mark.bad_input
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["", "overwrite"])
def test_demo_refuses_a_folder_it_did_not_make_at_once(overwrite, tmp_path, cli):
    """``demo --out thesis`` (a folder without demo.json) said ``already exists; pass
    overwrite=True (--overwrite)``, then refused --overwrite: now the second first."""
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.docx").write_text("precious")
    code, _, err = cli("demo", "--out", folder, *overwrite)
    assert_one_line_error(
        code,
        err,
        f"{folder}: not an ecoseg demo folder (no demo.json); refusing to delete it even with "
        "overwrite (choose another --out)",
    )
    assert [p.name for p in folder.iterdir()] == ["chapter1.docx"]


def _demo_folder(tmp_path: Path) -> Path:
    """A folder as a demo run stopped while measuring leaves it."""
    out = tmp_path / "ecoseg-demo"
    (out / "masks.zarr").mkdir(parents=True)
    (out / "tables").mkdir()
    (out / "demo.json").write_text('{"summary": null}')
    (out / "tables" / "regions.csv").write_text("frame,time_s\n")
    (out / "tables" / ".counts.csv.tmp").write_text("")
    (out / ".masks.zarr.lock").write_text("")
    return out


@pytest.mark.bad_input
@pytest.mark.parametrize("users", ["notes.txt", "tables/plot.png", "photos"])
def test_demo_overwrite_keeps_a_users_file_in_its_folder(users, tmp_path, cli):
    """``demo --overwrite`` deleted the whole demo folder, with the notes, plots or photos a
    user had put into it since: it is refused, naming the user's file, and nothing is lost."""
    out = _demo_folder(tmp_path)
    if users == "photos":
        (out / users).mkdir()
        (out / users / "p.jpg").write_bytes(b"jpeg")
    else:
        (out / users).write_text("precious")
    before = _tree(out)
    code, _, err = cli("demo", "--out", out, "--overwrite")
    assert_one_line_error(
        code,
        err,
        f"{out / users}: not written by ecoseg demo; refusing to delete the demo folder {out} "
        "with it, even with overwrite (move it away or choose another --out)",
    )
    assert _tree(out) == before


def test_demo_overwrite_replaces_a_folder_of_its_own_files(tmp_path, cli, monkeypatch):
    import ecoseg.engine

    def interrupted(video, out, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ecoseg.engine, "segment", interrupted)
    out = _demo_folder(tmp_path)
    code, _, err = cli("demo", "--out", out, "--overwrite")
    assert code == 130, err
    assert sorted(p.name for p in out.iterdir()) == ["demo.json"]  # replaced, then stopped


@pytest.mark.bad_input
def test_import_refuses_an_existing_store_before_reading_the_file(store, clip, tmp_path, cli):
    """``ecoseg import`` parsed the whole annotation file (minutes for a long one) before it
    found the output store existed: a file it cannot parse now still gets the store's
    refusal, which comes first."""
    bad = tmp_path / "annotations.json"
    bad.write_text('{"images": [')  # not even JSON: the parse would fail
    before = _tree(store)
    code, _, err = cli("import", bad, "--format", "coco", "--video", clip.video, "-o", store)
    assert_one_line_error(code, err, f"{store}: {WORDING}")
    assert _tree(store) == before


@pytest.mark.bad_input
@pytest.mark.parametrize("counts", ["not-an-rle", "71"])
def test_import_overwrite_of_a_bad_file_keeps_the_old_store(counts, store, clip, tmp_path, cli):
    """A MOTS line whose mask could not be decoded was found only while the new store was
    written, after ``--overwrite`` had removed the old one: the user was left with neither."""
    bad = tmp_path / "gt.txt"
    bad.write_text(f"1 1 1 64 96 {counts}\n")  # the tiny clip is 96x64
    before = _tree(store)
    code, _, err = cli(
        "import", bad, "--format", "mots", "--video", clip.video, "-o", store, "--overwrite"
    )
    assert_one_line_error(code, err, f"{bad}: line 1: RLE cannot be decoded")
    assert _tree(store) == before


# --------------------------------------------------------------------------- output folders
def _outputs_under_a_file(store, clip, notes, tmp_path):
    """(command args, the output path under ``notes``, the option named), one per command."""
    video = str(clip.video)
    study = tmp_path / "study.yaml"
    shutil.copy(clip.video, tmp_path / "reef.mp4")
    study.write_text("name: reef\noutput: out\nvideos:\n  - path: reef.mp4\n")
    under = notes / "out"
    return {
        "segment": (("segment", video, "-o", under), "--out"),
        "measure": (("measure", store, "-o", under), "--out"),
        "evaluate": (("evaluate", store, "--truth", clip.truth, "-o", under), "--out"),
        "export": (("export", store, "--format", "coco", "-o", under), "--out"),
        "import": (("import", notes, "--format", "coco", "--video", video, "-o", under), "--out"),
        "report": (("report", store, "-o", under), "--out"),
        "synth": (("synth", "-o", under, "--frames", "2", "--size", "32x32"), "--out"),
        "demo": (("demo", "--out", under), "--out"),
        "classify": (
            ("classify", store, "--train", store, "--train-video", video, "--save-model", under),
            "--save-model",
        ),
        "study": (("study", study, "-o", under), "--out"),
    }


@pytest.mark.bad_input
@pytest.mark.parametrize("command", [*COMMANDS_WITH_OUTPUTS, "study"])
def test_an_output_under_a_file_is_one_line_before_any_work(command, store, clip, tmp_path, cli):
    """``-o notes.txt/out`` gave a raw "[Errno 20] Not a directory" or "[Errno 17] File
    exists" (exit 1), some after the work was done."""
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    args, option = _outputs_under_a_file(store, clip, notes, tmp_path)[command]
    kept = _tree(store)
    code, _, err = cli(*args)
    line = assert_one_line_error(code, err, str(notes / "out"), f"({option})")
    assert f"{notes} is a file, not a folder" in line
    assert "Errno" not in line
    assert notes.read_text() == "keep me"
    assert _tree(store) == kept  # nothing was classified, measured or saved


#: Each command that writes one file or folder, and its output in two folders not made yet.
MISSING_FOLDERS = {
    "measure": lambda store, clip, new: ("measure", store, "-o", new / "tables"),
    "evaluate": lambda store, clip, new: (
        "evaluate",
        store,
        "--truth",
        clip.truth,
        "-o",
        new / "m.json",
    ),
    "export": lambda store, clip, new: ("export", store, "--format", "mot", "-o", new / "m.txt"),
    "report": lambda store, clip, new: ("report", store, "-o", new / "r.html"),
}


@pytest.mark.parametrize("command", MISSING_FOLDERS)
def test_an_output_in_folders_not_made_yet_is_written_there(command, store, clip, tmp_path, cli):
    """Every output's folders are made, as the CLI's check before the work allows
    (``check_out_parent``): ``evaluate -o new/dir/m.json`` alone computed every metric and
    then failed, ``[Errno 2] No such file or directory: 'new/dir/m.json'``."""
    args = MISSING_FOLDERS[command](store, clip, tmp_path / "new" / "dir")
    code, out, err = cli(*args)
    assert code == 0, err
    assert Path(args[-1]).exists() and str(args[-1]) in out


# --------------------------------------------------------------------------- report
@pytest.mark.bad_input
def test_report_to_a_folder_is_refused_before_any_work(store, tmp_path, cli):
    """With --overwrite a folder gave "[Errno 21] Is a directory" (exit 1), after the whole
    page was rendered, and left a .tmp file beside it."""
    folder = tmp_path / "site-A"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    for extra in ((), ("--overwrite",)):
        code, _, err = cli("report", store, "-o", folder, *extra)
        assert_one_line_error(code, err, str(folder), "is a folder")
    assert _tree(folder) == {"notes.txt": b"keep me"}
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.fault
def test_report_leaves_no_tmp_file_when_writing_fails(store, tmp_path, monkeypatch):
    import os

    import ecoseg

    replace = os.replace

    def fail(src, dst):
        if str(src).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", fail)
    out = tmp_path / "report.html"
    with pytest.raises(OSError, match="No space left"):
        ecoseg.report(store, out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["masks.zarr"]


@pytest.mark.bad_input
def test_report_names_a_store_given_twice(store, tmp_path, cli):
    out = tmp_path / "report.html"
    code, _, err = cli("report", store, store, "-o", out)
    assert_one_line_error(code, err, f"report: {store}: the same store is given twice")
    again = f"{store.parent}/./{store.name}"  # the same store under another spelling
    code, _, err = cli("report", store, again, "-o", out)
    assert_one_line_error(code, err, again, "given twice", str(store))
    zipped, linked = _zipped(store, tmp_path / "masks.zip"), tmp_path / "linked.zip"
    os.link(zipped, linked)  # the same file under two names: it was two videos of the page
    code, _, err = cli("report", zipped, linked, "-o", out)
    assert_one_line_error(code, err, f"report: {linked}: the same store is given twice")
    assert not out.exists()


def _zipped(store, path):
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(store.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(store).as_posix())
    return path


# outputs inside (or equal to) the store the command reads: the tables were written among its
# chunks, an export or a report replaced its zarr.json (the store was lost), a zip store was
# replaced by a JSON file
INTO_THE_STORE = [
    ("measure", "{store}", []),
    ("measure", "{store}/tables", []),
    ("measure", "{store}/labels", ["--overwrite"]),
    ("measure", "{zip}", ["--overwrite"]),
    ("export", "{store}/zarr.json", ["--format", "coco", "--overwrite"]),
    ("export", "{store}/labels/zarr.json", ["--format", "cvat", "--overwrite"]),
    ("export", "{zip}", ["--format", "coco", "--overwrite"]),
    ("report", "{store}/zarr.json", ["--overwrite"]),
    ("report", "{store}/report.html", []),
    ("report", "{zip}", ["--overwrite"]),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(("command", "out", "extra"), INTO_THE_STORE)
def test_an_output_inside_the_input_store_is_refused(command, out, extra, store, tmp_path, cli):
    zipped = _zipped(store, tmp_path / "masks.zip")
    source = zipped if "{zip}" in out else store
    out = out.format(store=store, zip=zipped)
    before = _tree(tmp_path)
    code, _, err = cli(command, source, "-o", out, *extra)
    assert_one_line_error(code, err, out, "mask store", str(source), "-o")
    assert _tree(tmp_path) == before


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("command", "inside", "out"),
    [
        ("evaluate", "store", "{}/zarr.json"),
        ("evaluate", "truth", "{}/zarr.json"),
        ("evaluate", "truth", "{}/labels/zarr.json"),
        ("report", "truth", "{}/zarr.json"),
    ],
)
def test_an_output_inside_a_store_read_as_truth_is_refused(
    command, inside, out, store, tmp_path, cli
):
    # `evaluate -o` (either store) and `report -o` (a --truth store) were not checked: with
    # --overwrite the JSON or the page replaced the store's zarr.json and the store was lost
    truth = tmp_path / "truth.zarr"
    shutil.copytree(store, truth)
    target = {"store": store, "truth": truth}[inside]
    out = out.format(target)
    before = _tree(tmp_path)
    code, _, err = cli(command, store, "--truth", truth, "-o", out, "--overwrite")
    assert_one_line_error(code, err, out, "inside the mask store", str(target), "-o")
    assert _tree(tmp_path) == before


@pytest.mark.bad_input
@OVERWRITE
@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_evaluate_and_report_never_replace_a_binary_file(
    command, overwrite, store, clip, tmp_path, cli
):
    # as export: `evaluate -o reef.mp4 --overwrite` replaced the video with the metrics JSON,
    # `report -o` with the page
    target = tmp_path / "reef.mp4"
    shutil.copy(clip.video, target)
    before = _tree(target)
    code, _, err = cli(command, store, "--truth", store, "-o", target, *overwrite)
    assert_one_line_error(code, err, str(target), "not a text file", "even with overwrite")
    assert _tree(target) == before


@pytest.mark.bad_input
@OVERWRITE
@pytest.mark.parametrize("what", ["video", "zip"])
def test_export_never_replaces_a_binary_file(what, overwrite, store, clip, tmp_path, cli):
    # every file format is text; --overwrite replaced a video or another zipped store
    target = tmp_path / "reef.mp4"
    if what == "video":
        shutil.copy(clip.video, target)
    else:
        target = _zipped(store, tmp_path / "other-site.zip")
    before = _tree(target)
    code, _, err = cli("export", store, "--format", "mot", "-o", target, *overwrite)
    assert_one_line_error(code, err, str(target), "not a text file", "even with overwrite")
    assert _tree(target) == before


@pytest.fixture
def two_species(store, clip, tmp_path, cli):
    """The store with two reviewed species (training works) and its video beside it."""
    video = tmp_path / "video.mp4"
    shutil.copy(clip.video, video)
    assert cli("edit", store, "--reviewed", "1", "--reviewed", "2")[0] == 0
    return video


@pytest.mark.bad_input
@pytest.mark.parametrize("twice", ["same", "dot-slash", "hard-link"])
def test_classify_refuses_a_store_given_twice(
    twice, store, two_species, tmp_path, cli, monkeypatch
):
    # it classified the store twice (two classify entries in its edit log); a zip store under
    # two hard links (or a bind mount) was two stores to it: only samefile sees one
    monkeypatch.chdir(tmp_path)
    first, again = store, store if twice == "same" else f"./{store.name}"
    if twice == "hard-link":
        first = _zipped(store, tmp_path / "masks.zip")
        again = tmp_path / "linked.zip"
        os.link(first, again)
    video = two_species
    before = _tree(tmp_path)
    code, _, err = cli(
        "classify", first, again, "--train", store, "--train-video", video,
        "--video", video, video,
    )  # fmt: skip
    assert_one_line_error(code, err, "classify", str(again), "the same store is given twice")
    assert _tree(tmp_path) == before


@pytest.mark.bad_input
@pytest.mark.parametrize("inside", ["train", "classified"])
def test_classify_saves_no_model_inside_a_store(inside, store, two_species, tmp_path, cli):
    other = tmp_path / "other.zarr"
    shutil.copytree(store, other)
    target = (store if inside == "train" else other) / "model.json"
    video = two_species
    before = _tree(tmp_path)
    code, _, err = cli(
        "classify", other, "--train", store, "--train-video", video, "--video", video,
        "--save-model", target,
    )  # fmt: skip
    assert_one_line_error(code, err, str(target), "inside the mask store", "--save-model")
    assert _tree(tmp_path) == before


@pytest.mark.bad_input
def test_classify_checks_the_video_count_before_training(store, two_species, tmp_path, cli):
    # training ran first and --save-model was written before the count was refused
    video = two_species
    model = tmp_path / "model.json"
    code, _, err = cli(
        "classify", store, "--train", store, "--train-video", video, "--video", video, video,
        "--save-model", model,
    )  # fmt: skip
    line = assert_one_line_error(code, err, "--video: 2 videos given for 1 store")
    assert "videos (" not in line, line
    assert "features" not in err  # no training progress before the refusal
    assert not model.exists()


@pytest.mark.bad_input
def test_classify_names_a_missing_store_before_training_and_saving(store, clip, tmp_path, cli):
    """A mistyped STORE was named only after training (its warnings printed first) and after
    --save-model had written the model."""
    assert cli("edit", store, "--reviewed", "1", "--reviewed", "2")[0] == 0  # two species
    missing, model = tmp_path / "nope.zarr", tmp_path / "species.json"
    video = str(clip.video)
    code, _, err = cli(
        "classify", missing, "--train", store, "--train-video", video, "--video", video,
        "--save-model", model,
    )  # fmt: skip
    assert_one_line_error(code, err, str(missing))
    assert not model.exists() and not missing.exists()


@pytest.mark.bad_input
def test_a_study_output_of_other_files_names_the_option_given(clip, tmp_path, cli):
    """``ecoseg study study.yaml -o tables`` (a folder of the user's files) was refused with
    "choose another `output:`", a key the user had not used: the remedy names ``-o`` too."""
    study = tmp_path / "study.yaml"
    study.write_text(f"output: out\nvideos:\n  - path: {clip.video}\n    name: reef\n")
    mine = tmp_path / "tables"
    mine.mkdir()
    (mine / "notes.csv").write_text("site,count\n")
    code, _, err = cli("study", study, "-o", mine, "--quiet")
    assert_one_line_error(code, err, str(mine), "not made by `ecoseg study`", "`-o`")
    assert (mine / "notes.csv").read_text() == "site,count\n"
    assert sorted(p.name for p in mine.iterdir()) == ["notes.csv"]


@pytest.mark.bad_input
@pytest.mark.parametrize("check", [[], ["--check"]], ids=["run", "check"])
def test_a_study_output_that_is_a_file_is_named_as_typed(check, clip, tmp_path, monkeypatch, cli):
    """``ecoseg study study.yaml -o clip/video.mp4`` named the file by its absolute path,
    not as the user typed it."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(clip.video, tmp_path / "reef.mp4")
    Path("study.yaml").write_text("output: out\nvideos:\n  - path: reef.mp4\n")
    code, _, err = cli("study", "study.yaml", "-o", "reef.mp4", *check)
    line = assert_one_line_error(code, err, "reef.mp4: exists and is not a folder")
    assert str(tmp_path) not in line


#: (command, output named as another kind of file, what the line says, the name it suggests)
MISNAMED = {
    "report-csv": (
        ("report", "S", "-o", "r.csv"),
        "a report is an HTML page, not a .csv file",
        "r.html",
    ),
    "report-json": (
        ("report", "S", "-o", "out/r.json"),
        "a report is an HTML page, not a .json",
        "out/r.html",
    ),
    "davis-json": (
        ("export", "S", "--format", "davis", "-o", "x.json"),
        "a davis export is a folder of PNG masks, not a .json file",
        "name it x",
    ),
    "davis-png": (
        ("export", "S", "--format", "davis", "-o", "masks.png"),
        "a davis export is a folder of PNG masks, not a .png file",
        "name it masks",
    ),
    "coco-csv": (
        ("export", "S", "--format", "coco", "-o", "ann.csv"),
        "a coco export is a JSON file, not a .csv file",
        "ann.json",
    ),
    "cvat-json": (
        ("export", "S", "--format", "cvat", "-o", "task.json"),
        "a cvat export is an XML file, not a .json file",
        "task.xml",
    ),
    "mot-json": (
        ("export", "S", "--format", "mot", "-o", "gt.json"),
        "a mot export is a text table, not a .json file",
        "gt.txt",
    ),
    "viame-html": (
        ("export", "S", "--format", "viame", "-o", "v.html"),
        "a viame export is a CSV table, not a .html file",
        "v.csv",
    ),
    # evaluate -o wrote its JSON into a file named .csv (or .html) without a word
    "evaluate-csv": (
        ("evaluate", "S", "--truth", "S", "-o", "out.csv"),
        "the metrics are a JSON file, not a .csv file",
        "name it out.json",
    ),
    "evaluate-html": (
        ("evaluate", "S", "--truth", "S", "-o", "out/m.html"),
        "the metrics are a JSON file, not a .html file",
        "name it out/m.json",
    ),
}


@pytest.mark.bad_input
@OVERWRITE
@pytest.mark.parametrize("case", MISNAMED)
def test_an_output_named_as_another_kind_of_file_is_refused(
    case, overwrite, store, tmp_path, monkeypatch, cli
):
    """``report -o r.csv`` wrote an HTML page into a .csv file and ``export --format davis -o
    x.json`` made a folder named x.json, both without a word."""
    monkeypatch.chdir(tmp_path)
    args, said, suggested = MISNAMED[case]
    out = args[-1]
    args = [store if a == "S" else a for a in args]
    code, _, err = cli(*args, *overwrite)
    assert_one_line_error(code, err, f"{out}: {said}", suggested)
    assert not Path(out).exists() and not Path("out").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("report", "S", "-o", "r.htm"),
        ("report", "S", "-o", "r.2024"),
        ("export", "S", "--format", "mot", "-o", "gt.csv"),
        ("export", "S", "--format", "viame", "-o", "v.txt"),
        ("export", "S", "--format", "davis", "-o", "run.v2"),
        ("export", "S", "--format", "coco", "-o", "ann"),
        ("evaluate", "S", "--truth", "S", "-o", "m.JSON"),
        ("evaluate", "S", "--truth", "S", "-o", "eval.v2"),
    ],
    ids=lambda a: f"{a[0]}-{a[-1]}",
)
def test_a_name_of_the_same_kind_or_of_no_known_kind_is_the_users_choice(
    args, store, tmp_path, monkeypatch, cli
):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(*[store if a == "S" else a for a in args], "--quiet")
    assert code == 0, err
    assert Path(args[-1]).exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("fmt", ["report", "coco"])
def test_overwrite_never_puts_a_page_or_an_export_into_a_users_table(fmt, store, tmp_path, cli):
    """``report -o counts.csv --overwrite`` replaced the user's table by an HTML page."""
    mine = tmp_path / "counts.csv"
    mine.write_text("site,count\nA,3\n")
    args = ("report",) if fmt == "report" else ("export", "--format", fmt)
    code, _, err = cli(args[0], store, *args[1:], "-o", mine, "--overwrite")
    assert_one_line_error(code, err, f"{mine}: a", "not a .csv file")
    assert mine.read_text() == "site,count\nA,3\n"


@pytest.mark.bad_input
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
@pytest.mark.parametrize("fmt", ["coco", "mot"])
def test_an_export_over_a_named_pipe_is_refused_even_with_overwrite(clip, tmp_path, cli, fmt):
    """It was renamed into the pipe's place (into a device's, such as /dev/full, for root)."""
    pipe = tmp_path / ("out.json" if fmt == "coco" else "out.txt")
    os.mkfifo(pipe)
    code, _, err = cli("export", clip.truth, "--format", fmt, "-o", pipe, "--overwrite")
    assert_one_line_error(code, err, str(pipe), "is not a file", "even with overwrite")
    assert pipe.is_fifo()  # not replaced by a file


@pytest.mark.bad_input
@pytest.mark.parametrize("fmt, name", [("coco", "masks.json"), ("mot", "masks.txt")])
def test_a_file_export_to_a_path_ending_in_a_slash_is_refused(clip, tmp_path, cli, fmt, name):
    """``-o exports/`` wrote the file under the name ``exports``, not into a folder."""
    out = f"{tmp_path / 'exports'}/"
    code, _, err = cli("export", clip.truth, "--format", fmt, "-o", out)
    assert_one_line_error(code, err, out, "names a folder", f"exports/{name}")
    assert not (tmp_path / "exports").exists()


@pytest.mark.bad_input
def test_resume_and_overwrite_together_say_which_does_what(clip, tmp_path, cli):
    """``segment ... --resume --overwrite`` said "resume and overwrite exclude each other":
    neither an option's spelling nor what each would do to the store."""
    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, engine="classical", progress=False)
    before = _tree(out)
    code, _, err = cli("segment", clip.video, "-o", out, "--resume", "--overwrite")
    assert_one_line_error(code, err, "--resume continues", "--overwrite replaces", "give one")
    assert _tree(out) == before
    with pytest.raises(ecoseg.errors.ConfigError, match=r"resume=True \(--resume\) continues"):
        ecoseg.segment(clip.video, out=out, resume=True, overwrite=True)

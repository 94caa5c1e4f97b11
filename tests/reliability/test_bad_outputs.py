"""Outputs that would destroy what a user stored: refused with one line, the file untouched
(existing outputs and ``--overwrite``; where an output may go: test_bad_output_places.py).

``--overwrite`` replaces an earlier output of the same command, never an input store, a video,
a folder of other files or anything the command could not have written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from reliability_helpers import COMMANDS_WITH_OUTPUTS, OVERWRITE, assert_one_line_error
from reliability_helpers import file_tree as _tree

import ecoseg


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


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "extra",
    [["--prompts", "PROMPTS"], ["--auto"], ["--concepts", "coral", "--model", "sam3-reduced"]],
    ids=["prompts", "auto", "concepts"],
)
def test_a_checkpoint_and_random_weights_together_are_refused(
    extra, clip, good_prompts, tmp_path, cli
):
    """``--checkpoint F --random-weights`` loaded F and ignored --random-weights without a
    word; now both are named before any work, by the CLI, ``segment()`` and ``batch()``."""
    from ecoseg.batch import batch
    from ecoseg.errors import ConfigError

    checkpoint = tmp_path / "w.pt"
    checkpoint.write_bytes(b"weights")
    extra = [str(good_prompts) if a == "PROMPTS" else a for a in extra]
    out = tmp_path / "out.zarr"
    args = ("--checkpoint", checkpoint, "--random-weights", "--device", "cpu", *extra)
    code, _, err = cli("segment", clip.video, "-o", out, *args)
    line = assert_one_line_error(code, err, "--checkpoint", "--random-weights", "give one")
    code, _, err = cli("batch", clip.video, "-o", tmp_path / "batch", *args)
    assert assert_one_line_error(code, err) == line
    both = {"checkpoint": str(checkpoint), "pretrained": False}
    with pytest.raises(ConfigError, match=r"checkpoint=PATH .* pretrained=False .* give one"):
        ecoseg.segment(clip.video, out=out, progress=False, auto=True, **both)
    with pytest.raises(ConfigError, match=r"checkpoint=PATH .* pretrained=False .* give one"):
        batch([clip.video], tmp_path / "batch", progress=False, auto=True, **both)
    assert not out.exists() and not (tmp_path / "batch").exists()


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
@pytest.mark.parametrize("missing", ["file", "video", "both"])
def test_import_names_a_missing_file_or_video_before_an_existing_store(
    missing, store, clip, tmp_path, cli
):
    """``import nope.json --video nov.mp4 -o existing.zarr`` named the existing store, the
    file and the video being neither parsed nor hashed before it; that they are there costs
    nothing to check, and a missing one is the real mistake: named first now."""
    coco = ecoseg.export(clip.truth, "coco", tmp_path / "coco.json")
    ann = tmp_path / "nope.json" if missing != "video" else coco
    video = tmp_path / "nov.mp4" if missing != "file" else clip.video
    before = _tree(store)
    code, _, err = cli("import", ann, "--format", "coco", "--video", video, "-o", store)
    said = f"{video}: no such file or directory" if missing == "video" else f"{ann}: coco"
    line = assert_one_line_error(code, err, said)
    assert str(store) not in line, line
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

"""Where an output may go: never under a file, inside a store a command reads, over a binary
file, a pipe or a file of another kind, nor anywhere before the work's inputs are checked;
refused with one line, the file untouched (existing outputs and ``--overwrite``:
test_bad_outputs.py).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from reliability_helpers import (
    COMMANDS_WITH_OUTPUTS,
    OVERWRITE,
    assert_names,
    assert_one_line_error,
)
from reliability_helpers import file_tree as _tree

import ecoseg
from ecoseg.errors import ConfigError


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
    if command != "measure" and out == str(zipped):
        # a file output (JSON, HTML) onto the zip store: refused first as a binary file, which
        # --overwrite would not replace either (the store is not said to be the input)
        said = f"{out}: is not a text file (a video, a zipped mask store, an image?); refusing"
    else:  # "(-o)": a bare "-o" is in every temporary path (/tmp/pytest-of-...)
        said = f"{out}: is {'the' if out == str(source) else 'inside the'} mask store {source} "
        said += "that the command reads (-o); choose an output outside it"
    assert_one_line_error(code, err, said)
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
    said = f"inside the mask store {target} that the command reads (-o)"
    assert_one_line_error(code, err, out, said)
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
def test_classify_refuses_a_training_store_given_twice(store, two_species, tmp_path, cli):
    # --train a.zarr --train a.zarr trained on its reviewed tracks twice: each species had
    # twice the tracks it has, so the model was surer than it learnt and the warning about
    # species of fewer than 3 reviewed tracks could not see them
    import ecoseg
    from ecoseg.errors import ConfigError
    from ecoseg.species import train_model

    video = two_species
    before = _tree(tmp_path)
    code, _, err = cli(
        "classify", store, "--train", store, "--train", store, "--train-video", video, video,
        "--video", video,
    )  # fmt: skip
    assert_one_line_error(code, err, f"classify --train: {store}: the same store is given twice")
    with pytest.raises(ConfigError, match="train_model: .*: the same store is given twice"):
        train_model([store, store], videos=[video, video])
    with pytest.raises(ConfigError, match="classify --train: .*given twice"):
        ecoseg.classify(store, train=[store, store], train_videos=[video, video], videos=video)
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
@OVERWRITE
def test_classify_saves_no_model_named_as_another_kind_of_file(
    overwrite, store, two_species, tmp_path, monkeypatch, cli
):
    """``--save-model species.csv`` wrote the model's JSON into a .csv file without a word
    (``ecoseg.species.model.check_model_output``)."""
    monkeypatch.chdir(tmp_path)
    video = two_species
    before = _tree(tmp_path)
    code, _, err = cli(
        "classify", store, "--train", store, "--train-video", video, "--video", video,
        "--save-model", "species.csv", *overwrite,
    )  # fmt: skip
    assert_one_line_error(
        code, err, "species.csv: a species model is a JSON file, not a .csv file", "species.json"
    )
    assert "features" not in err  # refused before training
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
    # report -o pages/ (and evaluate -o results/) wrote the file as 'pages' without a word
    "report-folder": (
        ("report", "S", "-o", "pages/"),
        "names a folder, but a report is an HTML page",
        "name the file (pages/report.html)",
    ),
    "evaluate-folder": (
        ("evaluate", "S", "--truth", "S", "-o", "results/"),
        "names a folder, but the metrics are a JSON file",
        "name the file (results/metrics.json)",
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
    # segment -o masks.mp4 (an annotated video expected) made a zarr store folder of that name
    "segment-mp4": (
        ("segment", "V", "-o", "masks.mp4"),
        "a mask store is a zarr folder (or a .zip of one), not a .mp4 file",
        "name it masks.zarr",
    ),
    "segment-csv": (
        ("segment", "V", "-o", "out/masks.csv"),
        "a mask store is a zarr folder (or a .zip of one), not a .csv file",
        "name it out/masks.zarr",
    ),
    # import -o x.json made a zarr store folder named x.json, as segment did
    "import-json": (
        ("import", "A", "--format", "coco", "--video", "V", "-o", "x.json"),
        "a mask store is a zarr folder (or a .zip of one), not a .json file",
        "name it x.zarr",
    ),
    "import-mp4": (
        ("import", "A", "--format", "coco", "--video", "V", "-o", "out/truth.mp4"),
        "a mask store is a zarr folder (or a .zip of one), not a .mp4 file",
        "name it out/truth.zarr",
    ),
    # measure -o counts.csv made a folder named counts.csv holding the five tables
    "measure-csv": (
        ("measure", "S", "-o", "counts.csv"),
        "the tables are a folder (regions, tracks, counts, maxn, cover), not a .csv file",
        "name it counts",
    ),
    "measure-xlsx": (
        ("measure", "S", "-o", "out/tables.xlsx"),
        "the tables are a folder (regions, tracks, counts, maxn, cover), not a .xlsx file",
        "name it out/tables",
    ),
    # synth -o c.mp4 made a folder named c.mp4 holding video.mp4 and truth.zarr
    "synth-mp4": (
        ("synth", "--frames", "2", "--size", "32x32", "-o", "c.mp4"),
        "a synthetic clip is a folder (video.mp4 and truth.zarr), not a .mp4 file",
        "name it c",
    ),
    "synth-zip": (
        ("synth", "--frames", "2", "--size", "32x32", "-o", "out/clip.zip"),
        "a synthetic clip is a folder (video.mp4 and truth.zarr), not a .zip file",
        "name it out/clip",
    ),
}


@pytest.mark.bad_input
@OVERWRITE
@pytest.mark.parametrize("case", MISNAMED)
def test_an_output_named_as_another_kind_of_file_is_refused(
    case, overwrite, store, clip, tmp_path, monkeypatch, cli
):
    """``report -o r.csv`` wrote an HTML page into a .csv file and ``export --format davis -o
    x.json`` made a folder named x.json, both without a word."""
    monkeypatch.chdir(tmp_path)
    args, said, suggested = MISNAMED[case]
    out, annotation = args[-1], None
    if "A" in args:  # an annotation file of the clip to import
        (tmp_path / "gt").mkdir()
        annotation = ecoseg.export(clip.truth, "coco", tmp_path / "gt" / "gt.json")
    args = [{"S": store, "V": clip.video, "A": annotation}.get(a, a) for a in args]
    code, _, err = cli(*args, *overwrite)
    assert_one_line_error(code, err, f"{out}: {said}", suggested)
    assert not Path(out).exists() and not Path("out").exists()


@pytest.mark.bad_input
def test_a_species_model_or_a_page_named_as_a_folder_is_refused(store, tmp_path, monkeypatch):
    """``classify --save-model models/`` and ``ecoseg.report(store, "pages/")`` wrote the file
    as ``models`` or ``pages`` (a trailing "/" is lost in a Path)."""
    from ecoseg.species.model import check_model_output

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as exc:
        check_model_output("models/", overwrite=False)
    assert_names(exc, "models/: names a folder", "(models/species_model.json)")
    with pytest.raises(ConfigError) as exc:
        ecoseg.report(store, "pages/")
    assert_names(exc, "pages/: names a folder", "(pages/report.html)")
    assert not Path("models").exists() and not Path("pages").exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("out", ["c.mp4", "clip.json"])
def test_synth_called_with_an_output_named_as_a_file_is_refused(out, tmp_path, monkeypatch):
    """``ecoseg.synth("c.mp4")`` made a folder named c.mp4, as ``ecoseg synth -o c.mp4`` did."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as exc:
        ecoseg.synth(out, frames=2, size=(32, 32))
    assert_names(exc, f"{out}: a synthetic clip is a folder", f"name it {Path(out).stem}")
    assert not list(tmp_path.iterdir())


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
        ("measure", "S", "-o", "tables.2024-05"),
        ("segment", "V", "-o", "masks.zip"),
        ("segment", "V", "-o", "dive-3.v2"),
        ("synth", "--frames", "2", "--size", "32x32", "-o", "reef.2024-05"),
        ("import", "A", "--format", "coco", "--video", "V", "-o", "truth.zip"),
    ],
    ids=lambda a: f"{a[0]}-{a[-1]}",
)
def test_a_name_of_the_same_kind_or_of_no_known_kind_is_the_users_choice(
    args, store, clip, tmp_path, monkeypatch, cli
):
    monkeypatch.chdir(tmp_path)
    annotation = None
    if "A" in args:  # an annotation file of the clip to import
        (tmp_path / "gt").mkdir()
        annotation = ecoseg.export(clip.truth, "coco", tmp_path / "gt" / "gt.json")
    args = [{"S": store, "V": clip.video, "A": annotation}.get(a, a) for a in args]
    code, _, err = cli(*args, "--quiet")
    assert code == 0, err
    assert Path(args[-1]).exists()
    if args[-1].endswith(".zip"):  # a zipped store, not a store folder named .zip
        assert zipfile.is_zipfile(args[-1])


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

"""Bad input to ``ecoseg edit``, ``ecoseg classify --model`` and ``ecoseg info``, and stores
given as URLs that cannot be reached: one line naming the option, value or URL, exit status 2,
and the store unchanged.

Tracks of the store: 1 on every frame 0-11, 2 on frames 2-9, 3 on frames 5-7.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
from fsspec.implementations.memory import MemoryFileSystem
from reliability_helpers import assert_names, assert_one_line_error

from ecoseg.errors import StoreError
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input


def _store(path: Path) -> Path:
    labels = np.zeros((12, 8, 10), np.uint32)
    labels[:, 0:2, 0:2] = 1
    labels[2:10, 4:6, 4:6] = 2
    labels[5:8, 6:8, 7:9] = 3
    objects = [(1, "wrasse", "tracker"), (2, "unknown", "tracker"), (3, "unknown", "tracker")]
    with MaskStore.create(path, height=8, width=10, chunk_frames=4, objects=objects) as s:
        s.append(labels, np.arange(12) / 10)
        s.mark_complete()
    return path


def _files(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (the store and anything beside it: a lock, a temporary)."""
    return {str(f.relative_to(folder)): f.read_bytes() for f in folder.rglob("*") if f.is_file()}


@pytest.fixture
def store(tmp_path):
    return _store(tmp_path / "site-A.zarr")


# (edit options, what the one line names)
EDITS = [
    (["--set-class", "1=wra\nsse"], ["--set-class 1=wra", "'wra\\nsse'", "control character"]),
    (["--set-class", "1=wrasse\x00"], ["--set-class 1=wrasse", "control character"]),
    (["--set-class", "1=blue\ttang"], ["--set-class 1=blue", "control character"]),
    (["--set-class", "1=ok", "--set-class", "2=a\rb"], ["--set-class 2=a", "control character"]),
    (["--set-class", "1="], ["--set-class '1=': empty class name for track 1; expected ID="]),
    # its spaces were echoed collapsed: "--set-class '4= ': expected ID=CLASS"; then not at all
    (
        ["--set-class", "1=  "],
        ["--set-class '1=  ': empty class name for track 1 (only whitespace after '=')"],
    ),
    # a value echoed as typed, not squeezed by the one-line error: it read "--set-class 'x= '"
    (["--set-class", "x=  "], ["--set-class 'x=  ': expected ID=CLASS"]),
    # one line, the merge named once (it read "--merge 1,1: merge: cannot merge track 1 ...")
    (["--merge", "1,1"], ["site-A.zarr: --merge 1,1: a track cannot be merged with itself;"]),
    (["--merge", "0,2"], ["site-A.zarr: --merge 0,2: track ids are positive, got [0, 2];"]),
    (["--delete", "0"], ["site-A.zarr: --delete 0: track ids are positive, got [0];"]),
    (["--merge", "1,2,3"], ["--merge", "'1,2,3'", "two track ids"]),
    (["--merge", "1,99"], ["--merge 1,99", "no track 99"]),
    (["--split", "3@-1"], ["site-A.zarr: --split 3@-1: the split frame must be >= 0;"]),
    (["--split", "2@99999999999999999999"], ["--split 2@99999999999999999999", "at most 9"]),
    (["--delete", "1,2"], ["--delete", "a track id"]),
    (["--delete", str(2**40)], [f"no track {2**40}"]),
    ([*["--reviewed", "1"] * 300, "--delete", "77"], ["edit 301 of 301", "no track 77"]),
    # the split's new track 4 is unknown with the suggestion 'wrasse': --reviewed stored
    # 'unknown' as a person's word
    (
        ["--set-class", "2=wrasse", "--split", "2@5", "--reviewed", "4"],
        ["edit 3 of 3 (--reviewed 4)", "track 4 is unknown", "--set-class 4=wrasse"],
    ),
    # --json says how --log prints the log: without it, it would be ignored silently
    (
        ["--set-class", "1=goby", "--json"],
        ["site-A.zarr: --json says how --log prints", "with --log; nothing"],
    ),
]


@pytest.mark.parametrize(("args", "culprits"), EDITS)
def test_a_bad_edit_is_one_line_and_changes_nothing(store, tmp_path, cli, args, culprits):
    before = _files(tmp_path)
    code, _, err = cli("edit", store, *args)
    assert_one_line_error(code, err, *culprits)
    assert _files(tmp_path) == before


@pytest.mark.parametrize(
    ("model", "culprit"),
    [
        ("site-A.zarr", "site-A.zarr: is a folder, not a species model file (JSON)"),
        ("nowhere.json", "nowhere.json: species model file not found"),
    ],
    ids=["folder", "missing"],
)
def test_a_species_model_that_is_no_file_is_named_in_the_house_wording(
    store, tmp_path, cli, monkeypatch, model, culprit
):
    # it said "a folder (a mask store?), not a species model file" and "no such species
    # model file", unlike every other file a user names
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    code, _, err = cli("classify", store, "--model", model)
    assert_one_line_error(code, err, culprit)
    assert _files(tmp_path) == before


@pytest.mark.parametrize("name", ["Chlorurus sordidus ♀", "ハタ", "Dascyllus\u00a0aruanus"])
def test_a_unicode_species_name_is_kept(store, cli, name):
    code, _, err = cli("edit", store, "--set-class", f"1={name}")
    assert code == 0, err
    with MaskStore.open(store) as s:  # in its one spelling: a no-break space is a space
        assert s.objects[0]["class"] == name.replace("\u00a0", " ")


class _Unreachable(MemoryFileSystem):
    """A filesystem whose every look-up fails the way a bucket without credentials does."""

    protocol = "ecoseg-unreachable"

    def exists(self, path, **kwargs):
        raise PermissionError("Unable to locate credentials")


class _Refusing(MemoryFileSystem):
    """A filesystem that connects when made (like ftp) to a server that refuses."""

    protocol = "ecoseg-refusing"

    def __init__(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")


fsspec.register_implementation("ecoseg-unreachable", _Unreachable, clobber=True)
fsspec.register_implementation("ecoseg-refusing", _Refusing, clobber=True)
fsspec.register_implementation(
    "ecoseg-notinstalled", "ecoseg_no_such_package.FS", clobber=True, errtxt="pip install it"
)

URLS = [
    ("foo://bucket/site-A.zarr", ["unknown URL protocol 'foo'"]),
    ("ecoseg-notinstalled://b/site-A.zarr", ["cannot open ecoseg-notinstalled:// URLs"]),
    ("ecoseg-unreachable://b/site-A.zarr", ["cannot be reached", "credentials"]),
    ("ecoseg-refusing://b/site-A.zarr", ["cannot be reached", "Connection refused"]),
]


@pytest.mark.parametrize(("url", "culprits"), URLS)
@pytest.mark.parametrize(
    "command",
    [
        ["info"],
        ["info", "--verify", "--json"],
        ["edit", "--delete", "1"],
        ["measure", "-o", "{tmp}/tables"],
    ],
    ids=["info", "info-verify", "edit", "measure"],
)
def test_a_store_url_that_cannot_be_reached_is_one_line(tmp_path, cli, url, culprits, command):
    # it was a traceback (ValueError, ImportError, botocore's NoCredentialsError, an OSError
    # without the URL), and `info` called the store damaged
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    code, out, err = cli(args[0], url, *args[1:])
    line = assert_one_line_error(code, err, url, *culprits)
    assert "damaged" not in line
    assert not list(tmp_path.iterdir())


def test_open_names_the_url(tmp_path):
    with pytest.raises(StoreError, match="ecoseg-unreachable://b/x.zarr: cannot be reached"):
        MaskStore.open("ecoseg-unreachable://b/x.zarr")


@pytest.mark.parametrize(
    "command",
    [["info"], ["info", "--verify"], ["edit", "--delete", "1"], ["measure", "-o", "{tmp}/t"]],
    ids=["info", "info-verify", "edit", "measure"],
)
def test_an_empty_store_path_is_named(tmp_path, cli, monkeypatch, command):
    # "" opened the working folder: ": not a zarr store (... LocalStore('file://.') ...)"
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    code, _, err = cli(args[0], "", *args[1:])
    assert_one_line_error(code, err, "'': an empty path is not a store")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("verify", [[], ["--verify"]], ids=["video", "verify-video"])
def test_an_empty_video_path_is_named(store, tmp_path, cli, monkeypatch, verify):
    # "" opened the working folder as an image folder: ".: no images ..." (or, with images
    # there, a comparison with them)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("info", store, *verify, "--video", "")
    assert_one_line_error(code, err, "'': an empty path is not a video or image folder")
    assert out == ""


def _set_meta(store: Path, key: str, value) -> None:
    import json

    from ecoseg.store import ATTRS_KEY

    doc = json.loads((store / "zarr.json").read_text())
    doc["attributes"][ATTRS_KEY][key] = value
    (store / "zarr.json").write_text(json.dumps(doc))


# a hand-edited or foreign edit log: it was an AttributeError/TypeError traceback
DAMAGED_LOG = [
    ("edits", "x", "the edit log ('edits') is damaged"),
    ("edits", [1, 2], "the edit log ('edits') is damaged"),
    ("edit_pending", "junk", "the pending edit ('edit_pending') is damaged"),
    ("edit_queue", "x", "the edit queue ('edit_queue') is damaged"),
]


@pytest.mark.parametrize(("key", "value", "message"), DAMAGED_LOG)
@pytest.mark.parametrize(
    "command",
    [["info"], ["edit", "--reviewed", "1"], ["edit", "--log"]],
    ids=["info", "edit", "log"],
)
def test_a_damaged_edit_log_is_one_line(store, tmp_path, cli, key, value, message, command):
    _set_meta(store, key, value)
    before = _files(tmp_path)
    code, _, err = cli(command[0], store, *command[1:])
    line = assert_one_line_error(code, err, str(store), message)
    assert "--verify" not in line  # verify reads chunks: it cannot list this
    assert _files(tmp_path) == before


def test_a_queue_that_no_longer_fits_is_one_warning_line(store, cli):
    # the rest of a command whose edit is unknown is dropped: a two-line Python warning before
    _set_meta(store, "edit_queue", [{"kind": "bogus"}])
    code, _, err = cli("edit", store, "--reviewed", "1")
    assert code == 0
    assert err.startswith("ecoseg: warning: ") and err.count("\n") == 1, err
    assert "unknown edit 'bogus'" in err


def test_a_half_written_edit_gives_no_numbers(store, tmp_path, cli, interrupt_edit):
    """An ``ecoseg edit`` killed while rewriting labels: ``measure``, ``evaluate`` and
    ``export`` used the half-edited labels and exited 0; now each refuses with the command
    that completes the edit (``info`` shows it too), and works once it is completed."""
    interrupt_edit(store)  # --merge 1,2 --delete 3

    truth = _store(tmp_path / "truth.zarr")
    commands = [
        ("measure", store, "-o", tmp_path / "tables"),
        ("evaluate", store, "--truth", truth),
        ("evaluate", truth, "--truth", store),
        ("export", store, "--format", "coco", "-o", tmp_path / "coco.json"),
    ]
    for args in commands:
        code, _, err = cli(*args)
        assert_one_line_error(code, err, str(store), "2 edits unfinished", "--resume")
    assert not (tmp_path / "tables").exists() and not (tmp_path / "coco.json").exists()
    code, text, _ = cli("info", store)
    assert code == 0 and "left 2 edits unfinished" in text
    assert cli("edit", store, "--resume")[0] == 0
    for args in commands:
        assert cli(*args)[0] == 0, args


@pytest.mark.parametrize(
    "command",
    [
        ["classify", "{store}", "--model", "{tmp}/species.json"],
        ["classify", "{other}", "--train", "{store}", "--save-model", "{tmp}/new.json"],
        ["report", "{store}", "-o", "{tmp}/report.html"],
    ],
    ids=["classify", "classify-train", "report"],
)
def test_a_half_written_edit_gives_no_classes_or_page(
    store, tmp_path, cli, interrupt_edit, command
):
    """``classify`` named tracks of the half-edited labels (completing the edit behind them)
    or trained on them, exit 0; now it refuses as ``measure`` does, as ``report`` does, and
    nothing is written (no model, no page, the stores as they were)."""
    interrupt_edit(store)  # --merge 1,2 --delete 3
    other = _store(tmp_path / "other.zarr")
    (tmp_path / "species.json").write_text("{}")  # never read: the store is refused first
    before = _files(tmp_path)
    args = [a.format(store=store, other=other, tmp=tmp_path) for a in command]
    code, _, err = cli(*args)
    assert_one_line_error(code, err, str(store), "2 edits unfinished", "--resume")
    assert _files(tmp_path) == before


def test_a_half_written_edit_gives_no_review_queue(store, interrupt_edit):
    """The review queue (least confident first; napari's *diverse first* orders by it) listed
    the tracks of the half-edited labels; now it refuses with ``measure``'s one line."""
    from ecoseg.measure import measure
    from ecoseg.species import review_queue
    from ecoseg.species.diverse import diverse_queue

    interrupt_edit(store)  # --merge 1,2 --delete 3
    with pytest.raises(StoreError) as said:
        measure(store)
    for queue in (review_queue, diverse_queue):
        with pytest.raises(StoreError) as refused:
            queue(store)
        assert str(refused.value) == str(said.value) and "\n" not in str(said.value)


def test_an_unfinished_prediction_short_of_the_truth_says_why(store, tmp_path, cli):
    """``evaluate`` of a prediction whose ``ecoseg segment`` was killed after 6 of the truth's
    12 frames: refused (its scores would be of half a video) as if of another video; now the
    one line says its run did not finish and the command that continues it."""
    with MaskStore.open(store) as truth:
        labels, times = truth.read_labels(0, 6), truth.read_time()[:6]
    part = tmp_path / "part.zarr"
    objects = [(1, "wrasse", "tracker"), (2, "unknown", "tracker"), (3, "unknown", "tracker")]
    with MaskStore.create(part, height=8, width=10, chunk_frames=4, objects=objects) as s:
        s.append(labels, times)  # never marked complete: the run was killed
    code, _, err = cli("evaluate", part, "--truth", store)
    assert_one_line_error(code, err, str(part), "has 6 frames", "did not finish", "--resume")


# Review calls refused as the Edit is made (before the store's checks): (call, what it names)
REVIEW_CALLS = [
    # the call named once (it read "merge(1, 1): merge: cannot merge track 1 with itself")
    (lambda r: r.merge(1, 1), "merge(1, 1): a track cannot be merged with itself;"),
    (lambda r: r.set_class(2, "wra\nsse"), "set_class(2, 'wra\\nsse'): the class name 'wra"),
    (lambda r: r.set_class(2, " "), "set_class(2, ' '): the class name is empty;"),
    # a reviewer's blank answer from a DataFrame column (None, NaN once pandas made it one,
    # pd.NA): it said "the class name must be text, got nan" or "the class name is empty"
    *[
        (
            lambda r, blank=blank: r.set_class(2, blank),
            f"set_class(2, {shown}): no class name for track 2 ({shown}: a blank answer?): "
            "pass its species, 'unknown' to mark it looked at without a name, or skip the track "
            "to keep its class;",
        )
        for blank, shown in [(float("nan"), "nan"), (None, "None"), (pd.NA, "<NA>")]
    ],
    (lambda r: r.split(3, -1), "split(3, -1): the split frame must be >= 0;"),
    (lambda r: r.delete(0), "delete(0): track ids are positive, got [0];"),
    (lambda r: r.mark_reviewed(2.5), "mark_reviewed(2.5): a track id must be a whole number"),
]


@pytest.mark.parametrize(("call", "names"), REVIEW_CALLS)
def test_a_refused_review_call_names_the_store_and_the_call(store, call, names):
    """These named neither the store nor the call (``merge: cannot merge track 1 with
    itself``), unlike the refusals of the store's checks (``site-A.zarr: set_class(99, 'x'):
    no track 99 ...; nothing was changed``)."""
    from ecoseg.errors import ConfigError
    from ecoseg.species import Review

    before = _files(store.parent)
    with pytest.raises(ConfigError) as err:
        call(Review(store))
    text = str(err.value)
    assert text.startswith(f"{store}: {names}") and text.endswith("; nothing was changed")
    assert "\n" not in text.replace("\\n", "") and _files(store.parent) == before


@pytest.mark.parametrize("stores", [[], ()], ids=["list", "tuple"])
def test_classify_without_a_store_is_refused_before_any_training(store, tmp_path, stores):
    """``classify([], train=...)`` trained a model, saved it and returned an empty table
    without a word (a store list filtered to nothing in a notebook); the CLI's argparse
    already asks for a STORE."""
    import ecoseg
    from ecoseg.errors import ConfigError

    before = _files(store.parent)
    model = tmp_path / "species.json"
    with pytest.raises(ConfigError) as err:
        ecoseg.classify(stores, train=[store], save_model=model)
    assert str(err.value) == "classify: no stores to classify (give at least one store)"
    assert not model.exists() and _files(store.parent) == before


@pytest.mark.parametrize("args", [["--delete", "2"], ["--set-class", "3=goby"]])
def test_an_edit_of_a_store_missing_a_scores_chunk_is_refused(store, tmp_path, cli, args):
    """An edit read the scores unchecked: a missing ``scores`` chunk was backed up and written
    back as zeros (every score of those frames 0), after which ``info --verify`` called the
    store sound. Now it is refused in ``measure``'s words and the store is left as it was."""
    (store / "scores" / "c" / "0" / "0").unlink()
    before = _files(tmp_path)
    code, _, err = cli("edit", store, *args)
    assert_one_line_error(code, err, str(store), "'scores' frames 0..", "scores/c/0/0 is missing")
    assert _files(tmp_path) == before
    code, out, _ = cli("info", store, "--verify")
    assert code == 1 and "missing (chunk scores/c/0/0)" in out


def _survey(path: Path) -> Path:
    """A photo survey (``--concepts`` on images) as ``segment`` stores one: a frame per
    photograph, its ``images`` in the provenance; instances 1 and 2 in q1.png, 3 in q2.png."""
    labels = np.zeros((2, 8, 10), np.uint32)
    labels[0, 0:2, 0:2], labels[0, 4:6, 4:6], labels[1, 2:4, 2:4] = 1, 2, 3
    objects = [(k, "parrotfish", "concept") for k in (1, 2, 3)]
    video = {"path": "quadrats", "width": 10, "height": 8, "images": ["q1.png", "q2.png"]}
    provenance = {"video": video, "engine": "sam3-concepts"}
    with MaskStore.create(path, height=8, width=10, objects=objects, provenance=provenance) as s:
        s.append(labels, np.arange(2.0))
        s.mark_complete()
    return path


def test_instances_of_two_photographs_of_a_survey_are_not_merged(tmp_path, cli):
    """A merge across photographs of a survey was accepted: one "track" in two quadrats,
    with a path length and a speed between them, counted as one animal by the tracks table.
    Now it is one line naming both photographs; instances of one photograph still merge."""
    store = _survey(tmp_path / "survey.zarr")
    before = _files(tmp_path)
    code, _, err = cli("edit", store, "--merge", "1,3")
    assert_one_line_error(
        code,
        err,
        str(store),
        "--merge 1,3",
        "track 1 in q1.png, track 3 in q2.png",
        "not the same animal",
    )
    assert _files(tmp_path) == before
    code, _, err = cli("edit", store, "--merge", "1,2")
    assert code == 0, err
    with MaskStore.open(store) as s:
        assert [o["id"] for o in s.objects] == [1, 3]


# an edit of a track an earlier command removed: (earlier commands, the edit, what it names);
# it said only "no track 3 (known: 1, 2)", as of an id that never was a track (and, until the
# review of stop 57, "no track 3: track 3 was deleted ...", the track named twice)
GONE = [
    ([["--delete", "3"]], ["--delete", "3"], "no track 3, deleted by edit 1 (--delete 3)"),
    ([["--delete", "3"]], ["--set-class", "3=goby"], "deleted by edit 1 (--delete 3)"),
    ([["--delete", "3"]], ["--reviewed", "3"], "deleted by edit 1 (--delete 3)"),
    ([["--delete", "3"]], ["--merge", "1,3"], "deleted by edit 1 (--delete 3)"),
    ([["--delete", "3"]], ["--merge", "3,1"], "deleted by edit 1 (--delete 3)"),
    ([["--delete", "3"]], ["--split", "3@6"], "deleted by edit 1 (--delete 3)"),
    ([["--merge", "1,3"]], ["--delete", "3"], "no track 3, merged into track 1 by edit 1"),
]


@pytest.mark.parametrize(("before", "args", "culprit"), GONE)
def test_an_edit_of_a_track_an_earlier_command_removed_says_so(
    store, tmp_path, cli, before, args, culprit
):
    for earlier in before:
        assert cli("edit", store, *earlier)[0] == 0
    files = _files(tmp_path)
    code, _, err = cli("edit", store, *args)
    line = assert_one_line_error(code, err, str(store), culprit, "--undo takes it back")
    assert "known" not in line and line.endswith("; nothing was changed")
    assert _files(tmp_path) == files
    assert cli("edit", store, "--undo")[0] == 0  # as it says: the track is back
    assert cli("edit", store, *args)[0] == 0


def test_a_track_deleted_commands_ago_says_how_many_undos_and_a_new_id_says_nothing(
    store, tmp_path, cli
):
    for earlier in (["--delete", "3"], ["--set-class", "1=goby"], ["--reviewed", "2"]):
        assert cli("edit", store, *earlier)[0] == 0
    code, _, err = cli("edit", store, "--reviewed", "3")
    assert_one_line_error(
        code,
        err,
        "no track 3, deleted by edit 1 (--delete 3); --undo, repeated 3 "
        "times, takes it back (and the 2 later commands); nothing was changed",
    )
    code, _, err = cli("edit", store, "--delete", "7")  # never a track: no edit is blamed
    line = assert_one_line_error(code, err, "--delete 7: no track 7 (known: 1, 2)")
    assert line.endswith(": --delete 7: no track 7 (known: 1, 2); nothing was changed")


def test_a_track_made_by_a_split_taken_back_says_so(store, cli):
    for earlier in (["--split", "1@6"], ["--undo"]):
        assert cli("edit", store, *earlier)[0] == 0
    code, _, err = cli("edit", store, "--set-class", "4=goby")
    assert_one_line_error(
        code,
        err,
        "no track 4, made by edit 1 (--split 1@6), taken back by edit 2 (--undo)",
    )


def test_a_review_call_on_a_deleted_track_says_so_in_its_own_words(store):
    from ecoseg.errors import ConfigError
    from ecoseg.species import Review

    review = Review(store)
    review.delete(3)
    with pytest.raises(ConfigError) as err:
        review.mark_reviewed(3)
    assert_names(
        err,
        "mark_reviewed(3): no track 3, deleted by edit 1 (delete(3)); undo() "
        "takes it back; nothing was changed",
    )


@pytest.mark.parametrize("verify", [[], ["--verify"], ["--json"]])
def test_info_of_several_stores_goes_on_past_one_that_is_no_store(store, tmp_path, cli, verify):
    """``ecoseg info a.zarr missing.zarr c.zarr --verify`` (stores checked after a copy) stopped
    at the first that is no store: the stores after it were neither summarised nor verified.
    Each mistake is its one error line now, the others are summarised, and the exit status is
    2."""
    other = tmp_path / "other.zarr"
    shutil.copytree(store, other)
    missing, notes = tmp_path / "missing.zarr", tmp_path / "notes.txt"
    notes.write_text("site A\n")
    code, out, err = cli("info", store, missing, notes, other, *verify)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err, err
    assert lines[0] == f"ecoseg: error: {missing}: no such store", lines
    assert lines[1].startswith(f"ecoseg: error: {notes}: a file, not a mask store"), lines
    assert str(store) in out and str(other) in out, out  # both summarised
    if verify == ["--verify"]:
        assert out.count("verify       ok") == 2, out

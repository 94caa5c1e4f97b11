"""A naming or reviewed mark run again (a notebook cell re-run, ``ecoseg edit`` repeated)
changes nothing: it is neither written nor logged again, and a warning says so."""

from pathlib import Path

import pytest

from ecoseg.cli import main
from ecoseg.species import Review, edit_log
from ecoseg.species.review import UnchangedEditWarning


def store_files(path: Path) -> dict[str, bytes]:
    return {str(f): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()}


@pytest.mark.parametrize(
    "call", [lambda r: r.set_class(3, "wrasse"), lambda r: r.mark_reviewed(3)], ids=["set", "mark"]
)
def test_a_repeated_review_call_is_not_logged_again(store3, call):
    path, _, _ = store3
    r = Review(path)
    call(r)
    before = store_files(path)
    with pytest.warns(UnchangedEditWarning, match=r"track 3 is '\w+' and reviewed already"):
        call(r)
    assert len(r.log) == 1 and store_files(path) == before  # nothing written at all


def test_the_repeat_leaves_undo_to_the_edit_it_repeated(store3):
    path, _, _ = store3
    r = Review(path)
    r.set_class(3, "wrasse")
    with pytest.warns(UnchangedEditWarning, match=r"set_class\(3, 'wrasse'\)"):
        assert r.apply(r._edit("set_class", 3, cls="wrasse")) is None
    r.set_class(3, "goby")  # another name is an edit
    r.undo()
    assert {o.id: o.class_name for o in r.objects}[3] == "wrasse"
    r.undo()  # the first naming: the class the track had
    assert {o.id: o.class_name for o in r.objects}[3] == "unknown"
    assert [e["kind"] for e in r.log] == ["set_class", "set_class", "undo", "undo"]


def test_ecoseg_edit_run_again_logs_only_what_changes(store3, capsys):
    path, _, _ = store3
    assert main(["edit", str(path), "--set-class", "3=wrasse", "--reviewed", "1"]) == 0
    capsys.readouterr()
    assert main(["edit", str(path), "--set-class", "3=wrasse", "--reviewed", "1"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("ecoseg: warning: ")
    assert "--set-class 3=wrasse: track 3 is 'wrasse' and reviewed already" in err
    assert "--reviewed 1: track 1 is 'unknown' and reviewed already" in err
    assert main(["edit", str(path), "--set-class", "3=wrasse", "--set-class", "2=goby"]) == 0
    assert capsys.readouterr().out == "edit 3: --set-class 2=goby\n"
    assert [(e["kind"], e["ids"]) for e in edit_log(path)] == [
        ("set_class", [3]),
        ("reviewed", [1]),
        ("set_class", [2]),
    ]

"""The ``ecoseg info`` command: summaries, --verify, --video, --json and the exit status."""

from __future__ import annotations

import json

import pytest
from info_helpers import garble, labels_chunk

from ecoseg.cli import main


def run(capsys, *args):
    code = main(["info", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_of_two_stores(capsys, truth, clip):
    code, out, _ = run(capsys, clip.truth, truth)
    assert code == 0
    assert out.count("16 of 64x48 px, complete") == 2
    assert "verify" not in out


def test_verify_a_good_store_exits_0(capsys, truth, clip):
    code, out, _ = run(capsys, truth, "--verify", "--video", clip.video)
    assert code == 0
    assert "ok: every chunk present and readable" in out
    assert "is the store's video" in out


def test_verify_lists_every_problem_and_exits_1(capsys, truth, clip):
    labels_chunk(truth, 1).unlink()
    garble(labels_chunk(truth, 2))
    code, out, _ = run(capsys, truth, "--verify", "--video", clip.video)
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith(f"{truth}: ")]
    assert len(problems) == 2
    assert "labels frames 4..7 missing" in problems[0]
    assert "labels frames 8..11 damaged" in problems[1]
    # what was checked, not where the problems are: the video is the store's (it read
    # "2 problems (chunks and video)", as if the video were one of them)
    assert "  verify       2 problems (checked: chunks and video)\n" in out


def test_wrong_video_exits_1(capsys, truth, other_clip):
    code, out, _ = run(capsys, truth, "--video", other_clip.video)
    assert code == 1
    assert f"{truth}: video: " in out and "sha256 differs" in out


def test_one_damaged_store_of_two_exits_1(capsys, truth, clip):
    labels_chunk(truth, 0).unlink()
    code, out, _ = run(capsys, clip.truth, truth, "--verify")
    assert code == 1
    assert out.count("labels frames") == 1


def test_json_parses_one_object_per_store(capsys, truth, clip):
    garble(labels_chunk(truth, 3))
    code, out, _ = run(capsys, clip.truth, truth, "--verify", "--json")
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == [str(clip.truth), str(truth)]
    good, bad = records
    assert good["ok"] is True and good["problems"] == []
    assert bad["ok"] is False
    assert bad["problems"] == [
        {
            "store": str(truth),
            "array": "labels",
            "kind": "damaged",
            "detail": bad["problems"][0]["detail"],
            "frames": [12, 15],
        }
    ]
    assert good["frames"] == 16 and good["complete"] is True
    assert good["calibration"]["mm_per_px"] == 25.0


def test_json_without_verify_has_no_ok_key(capsys, clip):
    code, out, _ = run(capsys, clip.truth, "--json")
    assert code == 0
    record = json.loads(out)
    assert "ok" not in record and record["engine"] == "truth"


def test_a_store_whose_times_cannot_be_read(capsys, truth):
    (truth / "time" / "c" / "0").write_bytes(b"garbage")
    code, out, _ = run(capsys, truth, "--verify")
    assert code == 1
    assert "summary      cannot be read" in out
    assert f"{truth}: time frames 0..15 damaged" in out
    code, _, err = run(capsys, truth)  # without --verify: one line, and what to run
    assert code == 2
    assert err.count("\n") == 1 and "--verify" in err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["{tmp}/nothing.zarr"], "no such store"),
        (["{tmp}/nothing.zarr", "--verify"], "no such store"),
        (["{truth}", "--video", "{tmp}/nothing.mp4"], "nothing.mp4"),
        (["{truth}", "{truth}", "--video", "{tmp}/v.mp4"], "--video goes with one STORE"),
    ],
)
def test_mistakes_are_one_line_errors_exiting_2(capsys, truth, tmp_path, args, needle):
    code, out, err = run(capsys, *(a.format(tmp=tmp_path, truth=truth) for a in args))
    assert code == 2
    assert err.startswith("ecoseg: error: ") and err.count("\n") == 1
    assert needle in err


def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["info", "--help"])
    assert info.value.code == 0
    assert "--verify" in capsys.readouterr().out


def test_json_and_lines_say_where_the_recorded_video_is_found_now(
    capsys, clip, tmp_path, monkeypatch
):
    """``video_path`` is the path as recorded (``video.mp4``, from where the store was made),
    so a script could not tell whether the video is there now: it is not where the store is
    named from, but beside it. ``video_found`` says where find_video finds it (from the
    current folder, as the store is named), or null, and the summary's video line says so."""
    import shutil

    shutil.copytree(clip.truth, tmp_path / "clips" / "T1.zarr")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "clips/T1.zarr", "--json")
    assert code == 0
    record = json.loads(out)
    assert record["video_path"] == "video.mp4"  # as recorded: its meaning kept
    assert record["video_found"] is None  # moved without its video
    _, out, _ = run(capsys, "clips/T1.zarr")
    assert "  video        video.mp4 (not found), sha256 " in out
    shutil.copy(clip.video, tmp_path / "clips" / "video.mp4")
    _, out, _ = run(capsys, "clips/T1.zarr", "--json")
    record = json.loads(out)
    assert (record["video_path"], record["video_found"]) == ("video.mp4", "clips/video.mp4")
    _, out, _ = run(capsys, "clips/T1.zarr")
    assert "  video        video.mp4 (found at clips/video.mp4), sha256 " in out
    monkeypatch.chdir(tmp_path / "clips")  # the recorded path itself, from here
    _, out, _ = run(capsys, "T1.zarr", "--json")
    assert json.loads(out)["video_found"] == "video.mp4"

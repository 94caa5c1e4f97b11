"""`ecoseg export`, `ecoseg import`, `ecoseg evaluate --truth PNGS` and `segment --prompts-from`
from the command line, with spaces in every file name."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ecoseg
from ecoseg.store import MaskStore


def run(*args, cwd=None):
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "ecoseg", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("ecoseg: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[-1]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("cli") / "reef clip 1", frames=6, size=(96, 64))


def test_help():
    for name in ("export", "import"):
        proc = run(name, "--help")
        assert proc.returncode == 0 and f"usage: ecoseg {name}" in proc.stdout
    assert "--prompts-from" in run("segment", "--help").stdout


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "mots", "cvat", "davis"])
def test_export_import_evaluate(clip, tmp_path, fmt):
    out = tmp_path / f"my {fmt} export"
    proc = run("export", clip.truth, "--format", fmt, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{fmt}: {out}"
    store = tmp_path / "imported masks.zarr"
    proc = run("import", out, "--format", fmt, "--video", clip.video, "-o", store)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(
        MaskStore.open(store).read_labels(), MaskStore.open(clip.truth).read_labels()
    )
    proc = run("evaluate", store, "--truth", clip.truth)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["jf"]["mean"] == 1.0
    # nothing is overwritten without --overwrite
    proc = run("export", clip.truth, "--format", fmt, "-o", out)
    one_line_error(proc, "already exists")
    assert run("export", clip.truth, "--format", fmt, "-o", out, "--overwrite").returncode == 0


def test_evaluate_against_a_png_folder(clip, tmp_path):
    pngs = tmp_path / "truth pngs"
    assert run("export", clip.truth, "--format", "davis", "-o", pngs).returncode == 0
    proc = run("evaluate", clip.truth, "--truth", pngs)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["jf"]["mean"] == 1.0 and result["hota"]["hota"] == pytest.approx(1.0)


@pytest.mark.slow
def test_segment_with_prompts_from_viame(clip, tmp_path):
    csv = tmp_path / "old project.csv"
    assert run("export", clip.truth, "--format", "viame", "-o", csv).returncode == 0
    out = tmp_path / "sam2 tracks.zarr"
    proc = run(
        "segment",
        clip.video,
        "-o",
        out,
        "--prompts-from",
        csv,
        "--format",
        "viame",
        "--prompt-frames",
        "0,3",
        "--random-weights",
        "--image-size",
        "64",
        "--device",
        "cpu",
    )
    assert proc.returncode == 0, proc.stderr
    store = MaskStore.open(out)
    truth = {o["id"]: o["class"] for o in MaskStore.open(clip.truth).objects}
    prompted = {o["id"] for o in store.provenance["prompts"]["objects"]}
    assert {o["id"]: o["class"] for o in store.objects} == {i: truth[i] for i in prompted}
    frames = {p["frame"] for o in store.provenance["prompts"]["objects"] for p in o["prompts"]}
    assert frames <= {0, 3}


@pytest.mark.slow
def test_segment_with_prompts_from_a_folder_times_it_at_fps(clip, tmp_path):
    """``--prompts-from`` places each prompt by its frame number (the file's times, the
    clip's, are not used), so ``--fps`` on a folder of images plays no part in where a
    prompt lands and sets the times the store keeps: it is honoured, not ignored."""
    from PIL import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    with ecoseg.open_video(clip.video) as video:
        for frame in video:
            Image.fromarray(frame.image).save(folder / f"img_{frame.index:03d}.png")
    csv = tmp_path / "boxes.csv"
    assert run("export", clip.truth, "--format", "viame", "-o", csv).returncode == 0
    out = tmp_path / "tracks.zarr"
    args = ["--prompts-from", csv, "--format", "viame", "--prompt-frames", "3", "--fps", "5"]
    options = ["--random-weights", "--image-size", "64", "--device", "cpu", "--quiet"]
    proc = run("segment", folder, "-o", out, *args, *options)
    assert proc.returncode == 0, proc.stderr
    store = MaskStore.open(out)
    n = len(list(folder.iterdir()))
    np.testing.assert_allclose(store.read_time(), np.arange(n) / 5)
    frames = {p["frame"] for o in store.provenance["prompts"]["objects"] for p in o["prompts"]}
    assert frames == {3}


def test_one_line_errors(clip, tmp_path):
    one_line_error(
        run("segment", clip.video, "-o", tmp_path / "x.zarr", "--format", "viame"),
        "--format and --prompt-frames go with --prompts-from",
    )
    one_line_error(
        run("segment", clip.video, "-o", tmp_path / "x.zarr", "--prompts-from", "a.csv"),
        "--prompts-from needs --format",
    )
    bad = tmp_path / "bad file.csv"
    bad.write_text("1,x,0,1,1,30,20,1,-1,fish\n2,x,99,1,1,3,3,1,-1,fish,0.5\n")
    one_line_error(
        run("import", bad, "--format", "viame", "--video", clip.video, "-o", tmp_path / "y.zarr"),
        "bad file.csv: line 1: field 10: species 'fish' has no confidence",
    )
    bad.write_text("1,x,99,1,1,3,3,1,-1,fish,0.5\n")
    one_line_error(
        run("import", bad, "--format", "viame", "--video", clip.video, "-o", tmp_path / "y.zarr"),
        "line 1: frame 99 is past the end of the video (6 frames",
    )
    assert not (tmp_path / "y.zarr").exists()
    one_line_error(
        run("export", clip.truth, "--format", "mot", "-o", tmp_path / "m.txt", "--polygons"),
        "applies to the viame format",
    )

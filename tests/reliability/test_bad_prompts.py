"""Bad prompt files: a PromptError naming the file, object and frame, before any model.

Every case runs through ``ecoseg.segment`` (Python) and ``ecoseg segment --prompts`` (CLI)
with the SAM 2 engine on the tiny 96x64, 24-frame clip; the ``no_model`` fixture fails the
test if a network is built before the error.
"""

from __future__ import annotations

import json
import re

import pytest
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import ConfigError, PromptError


def obj(oid=1, cls="fish", **prompt):
    return {"id": oid, "class": cls, "prompts": [{"frame": 0, "points": [[10, 10]], **prompt}]}


def doc(*objects):
    return json.dumps({"objects": list(objects)})


# (case id, file text, substrings the message must contain)
CASES = [
    ("point-right-of-frame", doc(obj(points=[[96, 10]])), ["object 1", "frame 0", "(96, 10)"]),
    ("point-above-frame", doc(obj(points=[[5, -1]])), ["object 1", "frame 0", "(5, -1)"]),
    ("point-far-away", doc(obj(points=[[1e9, 5]])), ["object 1", "frame 0", "outside"]),
    ("box-inverted", doc(obj(box=[30, 20, 10, 40])), ["object 1", "frame 0", "inverted"]),
    ("box-empty", doc(obj(box=[10, 10, 10, 30])), ["object 1", "frame 0", "empty"]),
    ("box-outside", doc(obj(box=[200, 100, 300, 150])), ["object 1", "frame 0", "outside"]),
    ("box-too-short", doc(obj(box=[1, 2, 3])), ["object 1", "frame 0", "box"]),
    (
        "nan-literal",
        '{"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[NaN, 3]]}]}]}',
        ["NaN"],
    ),
    (
        "infinity-literal",
        '{"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [0, 0, Infinity, 9]}]}]}',
        ["Infinity"],
    ),
    (
        "overflow-to-inf",
        '{"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1e999, 3]]}]}]}',
        ["object 1", "frame 0", "infinity"],
    ),
    (
        "frame-past-end",
        doc({"id": 4, "prompts": [{"frame": 24, "points": [[5, 5]]}]}),
        ["object 4", "frame 24", "24 frames"],
    ),
    (
        "frame-negative",
        doc({"id": 4, "prompts": [{"frame": -1, "points": [[5, 5]]}]}),
        ["object 4", "-1"],
    ),
    (
        "frame-not-int",
        doc({"id": 4, "prompts": [{"frame": 1.5, "points": [[5, 5]]}]}),
        ["object 4", "1.5"],
    ),
    ("duplicate-object-id", doc(obj(7), obj(7, "crab")), ["duplicate object id 7"]),
    (
        "duplicate-frame",
        doc(
            {
                "id": 2,
                "prompts": [{"frame": 3, "points": [[1, 1]]}, {"frame": 3, "box": [0, 0, 5, 5]}],
            }
        ),
        ["object 2", "frame 3"],
    ),
    ("object-id-zero", doc(obj(0)), ["object id", "0"]),
    ("object-id-text", doc(obj("fish-1")), ["fish-1"]),
    ("no-prompts", doc({"id": 3, "prompts": []}), ["object 3", "no prompts"]),
    ("prompt-without-clicks", doc({"id": 3, "prompts": [{"frame": 0}]}), ["object 3", "frame 0"]),
    ("labels-count", doc(obj(labels=[1, 0])), ["object 1", "frame 0", "labels"]),
    ("labels-not-binary", doc(obj(labels=[2])), ["object 1", "frame 0", "0 or 1"]),
    ("points-not-numbers", doc(obj(points=[["a", "b"]])), ["object 1", "frame 0", "numbers"]),
    # points nested once too often, or not at all, were read flat (reshape(-1, 2)) as clicks
    (
        "points-nested",
        doc(obj(points=[[[10, 10]]], labels=[1])),
        ["object 1", "frame 0", "points must be [[x, y], ...], got [[[10.0, 10.0]]]"],
    ),
    (
        "points-flat",
        doc(obj(points=[10, 10, 20, 20], labels=[1, 1])),
        ["object 1", "frame 0", "points must be [[x, y], ...], got [10.0, 10.0, 20.0, 20.0]"],
    ),
    ("unknown-key", doc(obj(colour="red")), ["object 1", "colour"]),
    # a misspelt key said only "unknown prompt key(s) ['point']", not which keys there are
    (
        "point-for-points",
        doc({"id": 1, "prompts": [{"frame": 0, "point": [[10, 10]]}]}),
        ["object 1", "'point'", "a prompt takes 'frame', 'points', 'labels' and 'box'"],
    ),
    # a mask (the prompt kind the Python API and annotation files take) said the same
    (
        "mask-in-json",
        doc({"id": 1, "prompts": [{"frame": 0, "mask": [[0, 1], [1, 1]]}]}),
        ["object 1", "'mask'", "--prompts-from FILE --format davis|coco|mots"],
    ),
    ("malformed-json", '{"objects": [{"id": 1,, }]}', ["invalid JSON", "line 1"]),
    ("trailing-comma", '{"objects": [],}', ["invalid JSON"]),
    ("not-an-object", "[1, 2, 3]", ["'objects'"]),
    ("no-objects-key", '{"things": []}', ["'objects'"]),
    ("empty-objects", '{"objects": []}', ["no objects to track", "--auto"]),
    ("concepts-only", '{"concepts": [{"text": "fish"}]}', ["no objects to track", "sam3"]),
    ("empty-file", "", ["invalid JSON"]),
    ("yaml-not-json", "objects:\n  - id: 1\n", ["invalid JSON"]),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(("text", "culprits"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_prompt_file(text, culprits, clip, tmp_path, no_model, cli):
    path = tmp_path / "clicks.json"
    path.write_text(text)
    out = tmp_path / "masks.zarr"
    with pytest.raises(PromptError) as info:
        ecoseg.segment(clip.video, path, out=out, pretrained=False, progress=False)
    assert_names(info, str(path), *culprits)
    code, _, err = cli("segment", clip.video, "-o", out, "--prompts", path, "--random-weights")
    assert_one_line_error(code, err, *culprits)
    assert not out.exists()


@pytest.mark.bad_input
def test_binary_prompt_file(clip, tmp_path, no_model, cli):
    # a PNG given as the prompt file (the bytes began with a UTF-16 byte order mark, so the
    # file was refused as UTF-16 text and the binary check was never reached)
    path = tmp_path / "clicks.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x60garbage\x80")
    said = f"{path}: not a text (JSON) file (it holds NUL bytes"
    with pytest.raises(PromptError) as info:
        ecoseg.segment(clip.video, path, out=tmp_path / "m.zarr", progress=False)
    assert_names(info, said)
    code, _, err = cli("segment", clip.video, "-o", tmp_path / "m.zarr", "--prompts", path)
    assert_one_line_error(code, err, said)
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.bad_input
def test_missing_prompt_file(clip, tmp_path, no_model, cli):
    path = tmp_path / "nowhere.json"
    code, _, err = cli("segment", clip.video, "-o", tmp_path / "m.zarr", "--prompts", path)
    assert_one_line_error(code, err, str(path), "not found")


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("text", "culprit"),
    [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")],
    ids=["malformed", "not-a-mapping"],
)
def test_bad_discovery_settings(text, culprit, clip, tmp_path, no_model, cli):
    path = tmp_path / "discovery.json"
    path.write_text(text)
    code, _, err = cli(
        "segment", clip.video, "-o", tmp_path / "m.zarr", "--auto", "--discovery", path
    )
    assert_one_line_error(code, err, str(path), culprit)


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("params", "culprit"),
    [
        ("nowhere.json", "nowhere.json: settings file not found"),
        (".", ".: is a folder, not a settings file (--params takes"),
        ("{not json", "--params: not valid JSON"),
        ('{"nope": 1}', "nope"),
    ],
    ids=["missing-file", "folder", "malformed", "unknown-setting"],
)
def test_bad_engine_settings(params, culprit, clip, tmp_path, cli):
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, "--params", params)
    assert_one_line_error(code, err, culprit)
    assert not out.exists()


@pytest.mark.bad_input
def test_sam2_engine_with_prompts_refuses_settings_it_would_ignore(
    clip, good_prompts, tmp_path, no_model, cli
):
    out = tmp_path / "m.zarr"
    args = ("segment", clip.video, "-o", out, "--prompts", good_prompts)
    code, _, err = cli(*args, "--params", '{"min_area": 30}')
    assert_one_line_error(code, err, "takes no parameters", "min_area")
    assert not out.exists()


@pytest.mark.bad_input
def test_classical_engine_refuses_prompts(clip, good_prompts, tmp_path, cli):
    with pytest.raises(ConfigError):
        ecoseg.segment(clip.video, good_prompts, out=tmp_path / "m.zarr", engine="classical")
    code, _, err = cli(
        "segment",
        clip.video,
        "-o",
        tmp_path / "m.zarr",
        "--engine",
        "classical",
        "--prompts",
        good_prompts,
    )
    assert_one_line_error(code, err, "classical")


@pytest.mark.bad_input
def test_image_size_for_the_classical_engine_is_refused(clip, tmp_path, cli):
    """``--engine classical --image-size 512`` ran the motion tracker and ignored the size."""
    out = tmp_path / "m.zarr"
    args = ("segment", clip.video, "-o", out, "--engine", "classical", "--image-size", "512")
    code, _, err = cli(*args)
    assert_one_line_error(code, err, "--image-size", "sam2 and sam3 engines", "classical")
    assert not out.exists()
    with pytest.raises(ConfigError) as info:
        ecoseg.segment(clip.video, out=out, engine="classical", image_size=512)
    assert_names(info, "image_size (--image-size)", "sam2 and sam3 engines", "classical")
    assert not out.exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_a_gpu_for_the_classical_engine_is_refused(device, clip, tmp_path, cli):
    """``segment VIDEO --device cuda`` (no prompts: the motion tracker) ran on the CPU and
    said nothing."""
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, "--device", device)
    assert_one_line_error(code, err, f"--device '{device}' is for", "runs on the CPU")
    assert not out.exists()
    with pytest.raises(ConfigError) as info:
        ecoseg.segment(clip.video, out=out, engine="classical", device=device)
    assert_names(info, f"device='{device}' (--device)", "classical motion tracker runs on the CPU")
    assert not out.exists()
    ecoseg.segment(clip.video, out=out, engine="classical", device="cpu", progress=False)


@pytest.mark.bad_input
def test_image_size_beyond_the_limit_is_refused_before_the_network(
    clip, good_prompts, tmp_path, no_model, cli
):
    """``--image-size 100000`` (a multiple of 32) built a network that exhausted memory: the
    run was killed with no message."""
    out = tmp_path / "m.zarr"
    args = ("segment", clip.video, "-o", out, "--prompts", good_prompts, "--random-weights")
    code, _, err = cli(*args, "--image-size", "100000")
    assert_one_line_error(code, err, "--image-size", "at most 4096", "got 100000")
    assert not out.exists()
    with pytest.raises(ConfigError, match="at most 4096"):
        ecoseg.segment(clip.video, good_prompts, out=out, image_size=8192, pretrained=False)
    assert not out.exists()


@pytest.mark.bad_input
def test_a_sam3_image_size_is_refused_before_the_video_is_read(tmp_path):
    """A SAM 3 size not a multiple of 14 was refused only when the network was built, after
    the video was opened and hashed (here: a video that is not there was reported instead)."""
    with pytest.raises(ConfigError, match=r"must be a multiple of 14 .*got 500$"):
        ecoseg.segment(
            tmp_path / "none.mp4", out=tmp_path / "m.zarr", concepts=["a"], image_size=500
        )
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("given", ["prompts", "auto", "prompts-from"])
def test_an_unknown_sam2_model_is_refused_before_the_video_is_read(
    given, good_prompts, tmp_path, no_model, cli
):
    """``segment --model sam2.1-tyni`` was refused only when the network was built, after the
    video was opened and hashed and the prompts read (here: a video that is not there was
    reported instead; ``--prompts-from`` read the video to convert the annotations), where
    ``batch`` and a study file refuse it before any work."""
    video, out = tmp_path / "none.mp4", tmp_path / "m.zarr"
    said = r"^unknown SAM 2 variant 'sam2\.1-tyni'; valid names: sam2\.1-tiny, "
    args = {
        "prompts": ["--prompts", good_prompts],
        "auto": ["--auto"],
        "prompts-from": ["--prompts-from", tmp_path / "none.csv", "--format", "viame"],
    }[given]
    code, _, err = cli("segment", video, "-o", out, *args, "--model", "sam2.1-tyni")
    assert re.match(said, assert_one_line_error(code, err).removeprefix("ecoseg: error: "))
    if given != "prompts-from":  # (a Python caller converts annotations with to_prompts)
        kwargs = {"prompts": good_prompts} if given == "prompts" else {"auto": True}
        with pytest.raises(ConfigError, match=said):
            ecoseg.segment(video, out=out, model="sam2.1-tyni", **kwargs)
    assert not out.exists()


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("flag", "fault", "culprit"),
    [
        ("--params", "removed", "settings file not found (--params takes a JSON object"),
        ("--discovery", "removed", "settings file not found (--discovery takes"),
        ("--params", "denied", "cannot be read: Permission denied"),
    ],
    ids=["params-removed", "discovery-removed", "params-denied"],
)
def test_a_settings_file_that_fails_when_read_is_one_line(
    flag, fault, culprit, clip, tmp_path, no_model, cli, read_fault
):
    # it was a FileNotFoundError (PermissionError) traceback from the read after the check
    path = tmp_path / "settings.json"
    path.write_text('{"min_area": 30}')
    read_fault(path, fault)
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, "--auto", flag, path)
    assert_one_line_error(code, err, f"{path}: {culprit}")
    assert not out.exists()


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("fault", "culprit"),
    [("removed", "prompt file not found"), ("denied", "cannot be read: Permission denied")],
    ids=["removed", "denied"],
)
def test_a_prompt_file_that_fails_when_read_is_one_line(
    fault, culprit, good_prompts, tmp_path, read_fault
):
    path = tmp_path / "prompts.json"
    path.write_text(good_prompts.read_text())
    read_fault(path, fault)
    with pytest.raises(PromptError) as exc:
        ecoseg.load_prompts(path)
    assert_names(exc, f"{path}: {culprit}")


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("points", "labels"),
    [([[[1, 2]]], [1]), ([1, 2], [1]), ([1, 2, 3, 4], [1, 0])],
    ids=["nested", "one-flat", "two-flat"],
)
def test_frame_prompt_points_not_in_pairs_are_refused_as_a_box_is(points, labels):
    """``FramePrompt`` read its points with ``reshape(-1, 2)``: an oddly nested list was taken
    as clicks, where a box in corner pairs is refused."""
    from ecoseg.prompts import FramePrompt

    with pytest.raises(PromptError) as info:
        FramePrompt(0, points=points, labels=labels)
    assert_names(info, "frame 0: points must be [[x, y], ...], got ")

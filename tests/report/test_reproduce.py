"""``ecoseg.report.reproduce``: the commands a report shows to make its stores again."""

import base64
import html
import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
from report_helpers import replay_record

from ecoseg.provenance import Provenance
from ecoseg.report.reproduce import measure_command, reproduce, store_command


def _video(name="v", **provenance):
    prov = Provenance.from_dict({"engine": "sam2", "parameters": {"device": "cpu"}, **provenance})
    return replay_record(name, prov)


PROMPTS = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[3, 4]]}]}]}


@pytest.mark.parametrize(
    "provenance, flags, files",
    [
        ({"prompts": PROMPTS}, "--device cpu --prompts v.prompts.json", {"v.prompts.json"}),
        (
            {"prompts": PROMPTS, "backward": False},
            "--device cpu --prompts v.prompts.json --forward-only",
            {"v.prompts.json"},
        ),
        (
            {"auto": True, "parameters": {"device": "cpu", "key_interval": 4}},
            "--device cpu --auto --params v.params.json",
            {"v.params.json"},
        ),
        (
            {
                "parameters": {"device": "cuda", "fast": True},
                "model": {"image_size": 512, "pretrained": False},
                "prompts": PROMPTS,
            },
            "--image-size 512 --random-weights --device cuda --fast --prompts v.prompts.json",
            {"v.prompts.json"},
        ),
    ],
)
def test_sam2_store_commands_carry_the_settings_that_shape_the_masks(provenance, flags, files):
    page = reproduce([_video(**provenance)], None, Path("report.html"))
    assert page["steps"] == [
        f"ecoseg segment v.mp4 -o v.zarr --engine sam2 --model sam2.1-tiny {flags}",
        "ecoseg report v.zarr -o report.html",
    ]
    assert {f.name for f in page["files"]} == files


def test_input_files_hold_what_the_store_recorded_and_are_named_per_video():
    prov = {"prompts": PROMPTS, "model": {"variant": "sam2.1-small"}}
    cmd = store_command(_video("site A/reef 1", **prov))
    (file,) = cmd.files
    assert file.name == "site A_reef 1.prompts.json"
    assert "--prompts 'site A_reef 1.prompts.json'" in cmd.text
    assert json.loads(file.text) == PROMPTS
    assert json.loads(base64.b64decode(file.uri.split(",", 1)[1])) == PROMPTS


def test_concept_commands_name_their_concepts_or_ship_the_prompt_file():
    named = store_command(
        _video(
            engine="sam3-concepts",
            model={"variant": "sam3", "image_size": 1008},
            parameters={"device": "cpu", "detect_every": 2, "score_threshold": 0.6},
            prompts={"concepts": [{"text": "sea urchin"}]},
        )
    )
    assert named.text.startswith(
        "ecoseg segment v.mp4 -o v.zarr --model sam3 --image-size 1008 --device cpu "
        "--concepts 'sea urchin' --detect-every 2 --params v.params.json"
    )
    (params,) = named.files
    assert json.loads(params.text) == {"score_threshold": 0.6}  # detect_every has its flag
    exemplar = {"text": "parrotfish", "exemplars": [{"frame": 3, "box": [1, 2, 9, 9]}]}
    with_box = store_command(
        _video(engine="sam3-concepts", parameters={}, prompts={"concepts": [exemplar]})
    )
    assert "--prompts v.prompts.json" in with_box.text and "--concepts" not in with_box.text
    photos = store_command(
        _video(
            engine="sam3-concepts",
            video={"path": "quadrats", "images": ["a.jpg"]},
            parameters={"device": "cpu", "score_threshold": 0.3},
            prompts={"concepts": [{"text": "coral"}]},
        )
    )
    assert photos.text.endswith("--concepts coral --score-threshold 0.3") and not photos.files
    # a folder tracked by concept (as_video): its command says so, else it would make a survey
    frames = store_command(
        _video(
            engine="sam3-concepts",
            video={"path": "quadrats", "fps": 30.0, "image_folder": True},
            parameters={"detect_every": 1},
            prompts={"concepts": [{"text": "coral"}]},
        )
    )
    assert frames.text.endswith("--concepts coral --as-video"), frames.text


# --------------------------------------------------------------------------- end to end
def _seeded_main(argv):
    """The CLI in this process, with the random weights of ``--random-weights`` seeded."""
    import torch

    from ecoseg.cli import main

    torch.manual_seed(0)
    return main(argv)


def _page_commands(page: str) -> tuple[list[str], dict[str, str]]:
    """The reproduce steps and the downloadable input files of a report page."""
    section = page.split("Reproduce this report", 1)[1]
    steps = html.unescape(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1)).splitlines()
    files = {}
    for name, data in re.findall(r'download="([^"]+\.json)" href="data:[^,]+,([^"]+)"', section):
        files[html.unescape(name)] = base64.b64decode(data).decode()
    return steps, files


def test_a_reports_commands_make_the_same_stores_again(tmp_path, monkeypatch):
    """Run the page's commands in an empty folder beside a copy of the video: every store
    comes out equal, label for label, with the same objects and the same recorded settings
    (motion tracker settings, discovery settings and key interval, input size, direction),
    a reviewed store with the same review (classes, merge, split, delete, undo), an imported
    one the same annotations; and the page made again is the same, byte for byte."""
    import ecoseg
    from ecoseg.species import edit_log
    from ecoseg.species._edit_log import standing_edits
    from ecoseg.store import MaskStore

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    ecoseg.synth("clip", frames=8, size=(96, 64), seed=3)
    Path("clicks.json").write_text(
        json.dumps(
            {
                "objects": [
                    {
                        "id": 4,
                        "class": "fish",
                        "prompts": [{"frame": 3, "points": [[40, 30]], "labels": [1]}],
                    }
                ]
            }
        )  # fmt: skip
    )
    Path("discovery.json").write_text(
        json.dumps({"points_per_side": 4, "pred_iou_thresh": 0.0, "stability_score_thresh": 0.0})
    )
    video, tiny = "clip/video.mp4", ["--random-weights", "--image-size", "64"]
    runs = {
        "tracker.zarr": ["--params", '{"warmup": 4, "min_hits": 1, "threshold": 3.0}'],
        "clicks.zarr": ["--prompts", "clicks.json", *tiny, "--forward-only"],
        "auto.zarr": ["--auto", *tiny, "--discovery", "discovery.json", "--key-interval", "3"],
    }
    for store, args in runs.items():
        assert _seeded_main(["segment", video, "-o", store, *args]) == 0
    assert _seeded_main(["export", "clip/truth.zarr", "--format", "coco", "-o", "ann.json"]) == 0
    assert (
        _seeded_main(["import", "ann.json", "--format=coco", f"--video={video}", "-o=in.zarr"]) == 0
    )
    stores = [*runs, "in.zarr"]
    tracker = MaskStore.open("tracker.zarr")
    a, b, c, d = tracker.object_ids[:4].tolist()
    present = np.flatnonzero((tracker.read_labels() == c).any(axis=(1, 2)))
    cut = int(present[-1])  # a split must leave both parts pixels: after the first frame
    assert cut > int(present[0])
    review = [f"--set-class={a}=blue tang", f"--merge={a},{b}", f"--split={c}@{cut}"]
    review.append(f"--delete={d}")
    assert _seeded_main(["edit", "tracker.zarr", *review, "--undo", f"--reviewed={c}"]) == 0
    truth = [a for _ in stores for a in ("--truth", "clip/truth.zarr")]
    assert _seeded_main(["report", *stores, "-o", "report.html", *truth, "--title", "Reef A"]) == 0
    steps, files = _page_commands(Path("report.html").read_text())
    assert steps[-1] == " ".join(
        ["ecoseg report", *stores, "-o report.html", *truth, "--title 'Reef A'"]
    )
    assert set(files) == {"clicks.prompts.json", "auto.params.json", "tracker.params.json"}

    monkeypatch.chdir(again)
    shutil.copytree(first / "clip", again / "clip")
    shutil.copy(first / "ann.json", "ann.json")  # named on the page by its SHA-256
    for name, text in files.items():
        Path(name).write_text(text)
    assert sum(s.startswith("ecoseg segment") for s in steps) == len(runs)
    assert sum(s.startswith("ecoseg edit tracker.zarr") for s in steps) == 1
    assert sum(s.startswith("ecoseg import ann.json --format coco") for s in steps) == 1
    for step in steps:
        assert _seeded_main(shlex.split(step, comments=True)[1:]) == 0
    for store in stores:
        a, b = MaskStore.open(first / store), MaskStore.open(again / store)
        assert a.n_frames == b.n_frames == 8
        np.testing.assert_array_equal(a.read_labels(), b.read_labels(), err_msg=store)
        assert a.objects == b.objects, store
        # the same edits held: the review and its --undo are no steps (they cancel out)
        held = [[e["kind"] for e in standing_edits(edit_log(s.path))] for s in (a, b)]
        assert held[0] == held[1], store
        made = [{k: v for k, v in s.provenance.items() if k != "created"} for s in (a, b)]
        assert made[1] == made[0], store  # model, input size, direction, every setting
    assert Path("report.html").read_bytes() == (first / "report.html").read_bytes()
    # the tracker settings matter: the default tracker makes a different store of this clip
    assert _seeded_main(["segment", video, "-o", "defaults.zarr"]) == 0
    default_labels = MaskStore.open("defaults.zarr").read_labels()
    assert not np.array_equal(default_labels, MaskStore.open(first / "tracker.zarr").read_labels())


def test_an_imported_store_names_its_annotation_file_and_how_it_was_read():
    record = {"format": "mots", "file": "gt.txt", "sha256": "ab12", "align": "time"}
    cmd = store_command(_video(engine="import", **{"import": {**record, "first_frame": 0}}))
    assert cmd.text == (
        "ecoseg import gt.txt --format mots --video v.mp4 -o v.zarr --align time "
        "--first-frame 0   # gt.txt: the annotation file with SHA-256 ab12"
    )


def test_import_records_the_first_frame_it_was_given(tmp_path):
    import ecoseg

    clip = ecoseg.synth(tmp_path / "clip", frames=3, size=(64, 48))
    ann = ecoseg.export(clip.truth, "mots", tmp_path / "gt.txt")
    from ecoseg.formats import import_annotations

    store = import_annotations(ann, "mots", clip.video, tmp_path / "m.zarr", first_frame=1)
    assert ecoseg.MaskStore.open(store).provenance["import"]["first_frame"] == 1


@pytest.mark.parametrize("fps", [30.0, 30000 / 1001])  # NTSC's rate was cut to --fps 29.97
def test_a_synthetic_clip_is_made_again_with_every_setting(tmp_path, monkeypatch, fps):
    import ecoseg
    from ecoseg.report.read import read_video

    monkeypatch.chdir(tmp_path)
    clip = ecoseg.synth(
        "a", seed=4, frames=5, size=(64, 48), fps=fps, n_fish=2, n_invertebrates=1, crf=30
    )
    info = read_video("a", clip.truth, "a/truth.zarr")
    step = store_command(info).text
    # its calibration is the clip's own, which `ecoseg synth` records again: a `measure
    # --calibration` step recorded it as a plain mm/px, not 'synthetic'
    assert info.calibration["method"] == "synthetic" and measure_command(info) is None
    argv = shlex.split(step, comments=True)
    assert argv[:4] == ["ecoseg", "synth", "-o", "a"]
    from ecoseg.cli import main

    argv[3] = "b"  # beside the first
    assert main(argv[1:]) == 0
    again, first = Path("b/video.mp4").read_bytes(), Path("a/video.mp4").read_bytes()
    if again != first:  # say whether the frames or only their encoding differ
        same = [
            np.array_equal(x.image, y.image)
            for x, y in zip(ecoseg.open_video("a/video.mp4"), ecoseg.open_video("b/video.mp4"))
        ]
        settings = [v[v.find(b"threads=") :][:60] for v in (first, again)]
        pytest.fail(f"{step}: other bytes; decoded frames equal {same}; x264 {settings}")
    times = [ecoseg.open_masks(f"{d}/truth.zarr")["time"].values for d in "ab"]
    assert np.array_equal(*times)


@pytest.mark.parametrize(
    ("video", "flags"),
    [
        ({"path": "timelapse", "fps": 10.0, "image_folder": True}, " --fps 10"),
        ({"path": "timelapse", "fps": 1 / 3, "image_folder": True}, " --fps 0.3333333333333333"),
        ({"path": "timelapse", "fps": 30.0, "image_folder": True}, ""),  # the default rate
        ({"path": "timelapse", "fps": 10.0}, ""),  # made before the record named folders: 30
        ({"path": "v.mp4", "fps": 25.0}, ""),  # a video file's rate is its own
    ],
)
def test_an_image_folders_rate_goes_into_its_commands(video, flags):
    made = _video(engine="classical", video=video, parameters={})
    assert store_command(made).text == f"ecoseg segment v.mp4 -o v.zarr{flags} --engine classical"
    record = {"format": "coco", "file": "a.json", "sha256": "ab12"}
    imported = store_command(_video(engine="import", video=video, **{"import": record}))
    assert imported.text.startswith(
        f"ecoseg import a.json --format coco --video v.mp4 -o v.zarr{flags}"
    )


def test_a_folder_timed_at_its_own_rate_is_made_again_at_that_rate(tmp_path, monkeypatch):
    """A folder of images segmented and imported at ``--fps 10``: the page's commands carry the
    rate, and run in an empty folder they make the same stores, times included, and the
    same page."""
    from PIL import Image

    import ecoseg
    from ecoseg.cli import main
    from ecoseg.store import MaskStore

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    clip = ecoseg.synth("clip", frames=12, size=(96, 64), seed=3)
    Path("frames").mkdir()
    for frame in ecoseg.open_video(clip.video):
        Image.fromarray(frame.image).save(f"frames/f_{frame.index:03d}.png")
    tracker = '{"warmup": 4, "min_hits": 1, "threshold": 3.0}'
    assert main(["segment", "frames", "-o", "seg.zarr", "--fps", "10", "--params", tracker]) == 0
    assert main(["export", "clip/truth.zarr", "--format", "mot", "-o", "gt.txt"]) == 0
    args = ["import", "gt.txt", "--format", "mot", "--video", "frames", "--fps", "10"]
    assert main([*args, "-o", "in.zarr"]) == 0
    assert main(["report", "seg.zarr", "in.zarr", "-o", "report.html"]) == 0
    steps, files = _page_commands(Path("report.html").read_text())
    assert steps[0].startswith("ecoseg segment frames -o seg.zarr --fps 10 --engine classical")
    assert steps[1].startswith(
        "ecoseg import gt.txt --format mot --video frames -o in.zarr --fps 10"
    )

    monkeypatch.chdir(again)
    shutil.copytree(first / "frames", again / "frames")
    shutil.copy(first / "gt.txt", "gt.txt")
    for name, text in files.items():
        Path(name).write_text(text)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0
    for store in ("seg.zarr", "in.zarr"):
        a, b = MaskStore.open(first / store), MaskStore.open(again / store)
        np.testing.assert_array_equal(b.read_time(), np.arange(12) / 10)
        np.testing.assert_array_equal(a.read_time(), b.read_time())
        np.testing.assert_array_equal(a.read_labels(), b.read_labels())
        made = [{k: v for k, v in s.provenance.items() if k != "created"} for s in (a, b)]
        assert made[1] == made[0] and made[0]["video"]["fps"] == 10.0, store
    assert Path("report.html").read_bytes() == (first / "report.html").read_bytes()


def test_an_old_split_at_a_tracks_first_frame_is_replayed_as_it_was(tmp_path, monkeypatch):
    """Before splits were checked, a split at a track's first frame gave the whole track a
    new id (a rename, the old id left without pixels). The page replayed it as ``--split
    ID@FIRST``, which ``ecoseg edit`` refuses now, so the steps stopped there. They now say
    ``--unchecked-split`` for such a split (and ``--split`` for a checked one), and running
    them gives the same store and the same page."""
    import ecoseg
    import ecoseg.species._edit_plan
    from ecoseg.cli import main
    from ecoseg.species import edit_log
    from ecoseg.store import MaskStore

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    ecoseg.synth("clip", frames=8, size=(96, 64), seed=3)
    params = ["--params", '{"warmup": 4, "min_hits": 1, "threshold": 3.0}']
    assert main(["segment", "clip/video.mp4", "-o", "old.zarr", *params]) == 0
    store = MaskStore.open("old.zarr")
    labels = store.read_labels()
    ids = store.object_ids.tolist()
    frames = {i: np.flatnonzero((labels == i).any(axis=(1, 2))) for i in ids}
    a = ids[0]
    b = next(i for i in ids[1:] if len(frames[i]) > 1)
    renamed = max(ids) + 1
    with monkeypatch.context() as old:  # the edit as ecoseg made it before splits were checked
        old.setattr(ecoseg.species._edit_plan, "check_split", lambda *args: None)
        edits = [f"--split={a}@{frames[a][0]}", f"--set-class={renamed}=wrasse"]
        assert main(["edit", "old.zarr", *edits, f"--split={b}@{frames[b][-1]}"]) == 0
    after = MaskStore.open("old.zarr")
    assert not (after.read_labels() == a).any() and (after.read_labels() == renamed).any()
    assert main(["report", "old.zarr", "-o", "report.html"]) == 0
    steps, files = _page_commands(Path("report.html").read_text())
    edit = next(s for s in steps if s.startswith("ecoseg edit"))
    assert f"--unchecked-split {a}@{frames[a][0]}" in edit
    assert f"--split {b}@{frames[b][-1]}" in edit  # a checked split stays as it was

    monkeypatch.chdir(again)
    shutil.copytree(first / "clip", again / "clip")
    for name, text in files.items():
        Path(name).write_text(text)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0, step
    x, y = _same_store(first / "old.zarr", again / "old.zarr")
    logs = [[{k: v for k, v in e.items() if k != "time"} for e in edit_log(s)] for s in (x, y)]
    assert logs[0] == logs[1]
    assert Path("report.html").read_bytes() == (first / "report.html").read_bytes()


def test_an_old_merge_of_two_names_of_one_rank_is_replayed_as_it_was(tmp_path, monkeypatch):
    """Before ``--merge`` refused two different names of one rank, merging two prompted
    tracks (parrotfish, wrasse) or two reviewed ones kept the first track's name. The page
    replayed such a merge as ``--merge A,B``, which ``ecoseg edit`` refuses now, so the
    steps stopped there. They now make it as it was (``--unchecked-merge``, found from the
    merge's backup), and running them on a fresh synthetic clip gives the same labels,
    scores, object table and log (a ``--set-class`` before each such merge, as the steps
    gave before, logged an entry more)."""
    import ecoseg
    import ecoseg.species.edits
    from ecoseg.cli import main
    from ecoseg.provenance import clean_class_name
    from ecoseg.species import edit_log
    from ecoseg.store import MaskStore

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    ecoseg.synth("clip", frames=8, size=(96, 64), seed=18)  # its 8 organisms all in view
    truth = MaskStore.open("clip/truth.zarr").object_records()
    assert [truth[i].class_name for i in (4, 2, 3, 7)] == [
        "parrotfish", "wrasse", "damselfish", "sea_urchin"
    ]  # fmt: skip
    review = [
        "--merge=4,2",  # two prompts' names: the old merge kept parrotfish
        "--set-class=1=blue tang",
        "--set-class=5=goby",
        "--merge=1,5",  # two reviewed names: kept blue tang
        "--merge=6,8",  # damselfish and sea_star, merged and undone
        "--undo",
        "--merge=3,7",  # damselfish and sea_urchin, left merged
    ]
    with monkeypatch.context() as old:  # as ecoseg merged before it ranked names: no clash
        old.setattr(
            ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
        )
        for option in review:  # an old log: an --undo took back one entry, each one command
            assert main(["edit", "clip/truth.zarr", option]) == 0
    objects = MaskStore.open("clip/truth.zarr").object_records()
    assert objects[4].class_name == "parrotfish" and objects[1].class_name == "blue tang"
    assert objects[6].class_name == "damselfish" and 8 in objects  # the undone merge
    assert main(["report", "clip/truth.zarr", "-o", "report.html"]) == 0
    steps, files = _page_commands(Path("report.html").read_text())
    # the merge undone and its undo cancel out: no steps, so the log has no undo to replay
    # and the edits go into one command (a command a line where an --undo is left)
    assert [s for s in steps if s.startswith("ecoseg edit")] == [
        "ecoseg edit clip/truth.zarr --unchecked-merge 4,2 --set-class '1=blue tang' "
        "--set-class 5=goby --unchecked-merge 1,5 --unchecked-merge 3,7"
    ]
    # the clip's calibration is made by `ecoseg synth` (a `measure --calibration` step
    # recorded it again as a plain mm/px, not 'synthetic', so the page differed)
    assert not any(s.startswith("ecoseg measure") for s in steps)

    monkeypatch.chdir(again)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0, step
    x, y = _same_store(first / "clip/truth.zarr", again / "clip/truth.zarr")
    # the log made again: the log's entries, but for the merge undone and its undo
    logged = [[(e["kind"], e["ids"], e.get("cls")) for e in edit_log(s)] for s in (x, y)]
    assert logged[1] == [logged[0][k] for k in (0, 1, 2, 3, 6)]
    assert Path("report.html").read_bytes() == (first / "report.html").read_bytes()


def test_old_merges_made_before_names_were_ranked_are_replayed_as_they_were_or_said_so(
    tmp_path, monkeypatch
):
    """Merging a truth track (3, parrotfish) with one a person named (1, grouper) before
    ecoseg ranked names kept parrotfish, reviewed; the page replayed it with ``--merge``,
    which keeps grouper today, so the store made again named the track otherwise. Now it is
    found from the table after it and made with ``--unchecked-merge``: the same track. A
    merge that neither rule makes (a model's guess, 5, kept unreviewed over a person's goby,
    4, by an ecoseg between the two) is made with ``--merge`` and its step says so."""
    import ecoseg
    import ecoseg.species.edits
    from ecoseg.cli import main
    from ecoseg.provenance import clean_class_name
    from ecoseg.species._edit_log import read_meta, write_meta
    from ecoseg.store import MaskStore

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    ecoseg.synth("clip", frames=8, size=(96, 64), seed=3)
    with MaskStore.open("clip/truth.zarr", mode="a") as s:  # 5 as a classification named it
        meta = read_meta(s)
        guess = {"class_source": "classified", "class_probability": 0.55}
        meta["objects"] = [{**o, **guess} if o["id"] == 5 else o for o in meta["objects"]]
        write_meta(s, meta)
    unranked = ("_persons_name", lambda o: (0, clean_class_name(o["class"])))
    for options, fakes in (
        (["--set-class=1=grouper", "--merge=3,1"], [("_a_guess", lambda o: False), unranked]),
        (["--set-class=4=goby", "--merge=5,4"], [unranked]),
    ):
        with monkeypatch.context() as old:
            for name, fake in fakes:
                old.setattr(ecoseg.species.edits, name, fake)
            for option in options:
                assert main(["edit", "clip/truth.zarr", option]) == 0
    objects = MaskStore.open("clip/truth.zarr").object_records()
    assert (objects[3].class_name, objects[3].reviewed) == ("parrotfish", True)
    assert (objects[5].class_name, objects[5].reviewed) == ("damselfish", False)
    assert main(["report", "clip/truth.zarr", "-o", "report.html"]) == 0
    steps, _ = _page_commands(Path("report.html").read_text())
    assert [s for s in steps if s.startswith("ecoseg edit")] == [
        "ecoseg edit clip/truth.zarr --set-class 1=grouper --unchecked-merge 3,1 "
        "--set-class 4=goby --merge 5,4   # edit log entry 4, a merge of an older ecoseg, "
        "named track 5 as no ecoseg edit of today does: made with --merge, the track may be "
        "named otherwise"
    ]
    monkeypatch.chdir(again)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0, step
    x, y = (MaskStore.open(f / "clip/truth.zarr").objects for f in (first, again))
    assert [o for o in y if o["id"] == 3] == [o for o in x if o["id"] == 3]


def test_an_old_reviewed_mark_of_an_unknown_with_a_suggestion_is_replayed_as_it_was(
    tmp_path, monkeypatch
):
    """Before ``--reviewed`` refused an unknown track holding a suggestion, such a mark was
    logged as ``--reviewed ID``; the page replayed it so, ``ecoseg edit`` refuses it now and
    the steps stopped there. They now say ``--unchecked-reviewed ID``, and running them on a
    fresh synthetic clip gives the same store and page."""
    import ecoseg
    import ecoseg.species._edit_plan
    from ecoseg.cli import main
    from ecoseg.store import MaskStore

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    ecoseg.synth("clip", frames=8, size=(96, 64), seed=3)
    store = MaskStore.open("clip/truth.zarr")
    labels = store.read_labels()
    new = int(store.object_ids.max()) + 1
    frames = np.flatnonzero((labels == 1).any(axis=(1, 2)))
    split = f"--split=1@{frames[len(frames) // 2]}"  # its new part: unknown, 'wrasse' suggested
    with monkeypatch.context() as old:  # the mark as ecoseg took it before the rule
        old.setattr(ecoseg.species._edit_plan, "check_review", lambda *args: None)
        edits = ["--set-class=1=wrasse", split, f"--reviewed={new}", "--reviewed=3"]
        assert main(["edit", "clip/truth.zarr", *edits]) == 0
    assert MaskStore.open("clip/truth.zarr").object_records()[new].class_name == "unknown"
    assert main(["report", "clip/truth.zarr", "-o", "report.html"]) == 0
    steps, files = _page_commands(Path("report.html").read_text())
    assert [s for s in steps if s.startswith("ecoseg edit")] == [
        f"ecoseg edit clip/truth.zarr --set-class 1=wrasse {split.replace('=', ' ')} "
        f"--unchecked-reviewed {new} --reviewed 3"
    ]

    monkeypatch.chdir(again)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0, step
    _same_store(first / "clip/truth.zarr", again / "clip/truth.zarr")
    assert Path("report.html").read_bytes() == (first / "report.html").read_bytes()


def test_an_old_name_differing_only_in_case_is_replayed_as_it_was(tmp_path, monkeypatch):
    """Before ``--set-class`` refused a name differing only in letter case from one in the
    store, ``--set-class 3=Surgeonfish`` beside track 1's ``surgeonfish`` was written (two
    species, with a warning); the page replayed it so, ``ecoseg edit`` refuses it now and the
    steps stopped there, so the study could not be made again. It now says
    ``--unchecked-set-class``, the other names stay ``--set-class``, and the steps make the
    same store and page."""
    import ecoseg
    import ecoseg.species._edit_plan
    from ecoseg.cli import main
    from ecoseg.species.review import refused_names

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    ecoseg.synth("clip", frames=8, size=(96, 64), seed=3)  # track 1 surgeonfish, 3 parrotfish
    with monkeypatch.context() as old:  # the name as ecoseg took it before the rule
        old.setattr(ecoseg.species._edit_plan, "check_edit_spellings", lambda *args: None)
        assert main(["edit", "clip/truth.zarr", "--set-class=3=Surgeonfish"]) == 0
    assert main(["edit", "clip/truth.zarr", "--set-class=7=urchin"]) == 0
    assert refused_names("clip/truth.zarr") == [1]
    assert main(["report", "clip/truth.zarr", "-o", "report.html"]) == 0
    steps, files = _page_commands(Path("report.html").read_text())
    assert [s for s in steps if s.startswith("ecoseg edit")] == [
        "ecoseg edit clip/truth.zarr --unchecked-set-class 3=Surgeonfish --set-class 7=urchin"
    ]

    monkeypatch.chdir(again)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0, step
    _same_store(first / "clip/truth.zarr", again / "clip/truth.zarr")
    assert Path("report.html").read_bytes() == (first / "report.html").read_bytes()
    # a person's command is still refused
    assert main(["edit", "clip/truth.zarr", "--set-class", "4=SURGEONFISH"]) == 2


@pytest.mark.parametrize("calibration", ["0.25", "scale-bar:10,20,90,20,40"])
def test_a_calibrated_stores_commands_calibrate_it_again(tmp_path, monkeypatch, calibration):
    """A calibration is saved into a store by ``ecoseg measure``, not ``segment``: the page's
    commands must calibrate it again, or the page made from them is in pixels."""
    import ecoseg
    from ecoseg.cli import main
    from ecoseg.store import MaskStore

    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    monkeypatch.chdir(first)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1710000000")
    ecoseg.synth("clip", frames=6, size=(96, 64), seed=4)
    assert main(["segment", "clip/video.mp4", "-o", "reef.zarr"]) == 0
    assert main(["measure", "reef.zarr", "-o", "tables", "--calibration", calibration]) == 0
    assert main(["report", "reef.zarr", "-o", "report.html"]) == 0
    steps, files = _page_commands(Path("report.html").read_text())
    assert any(s.startswith("ecoseg measure reef.zarr") for s in steps)
    monkeypatch.chdir(again)
    shutil.copytree(first / "clip", again / "clip")
    for name, text in files.items():
        Path(name).write_text(text)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0
    made = MaskStore.open(first / "reef.zarr").calibration
    assert made and MaskStore.open("reef.zarr").calibration == made
    assert Path("report.html").read_bytes() == (first / "report.html").read_bytes()


def _same_store(first: Path, again: Path) -> tuple:
    """Check the store made again has the first one's labels, scores and objects."""
    from ecoseg.store import MaskStore

    x, y = MaskStore.open(first), MaskStore.open(again)
    np.testing.assert_array_equal(x.read_labels(), y.read_labels())
    np.testing.assert_array_equal(x.read_scores(), y.read_scores())
    assert x.objects == y.objects
    return x, y


def test_a_store_that_records_no_video_gets_no_made_up_segment_command(tmp_path):
    """A store made below ``ecoseg.segment`` (``MaskStore.create`` and ``segment_classical``,
    as docs/classical.md shows) records no video: the page said ``ecoseg segment '(not
    recorded)' -o masks.zarr --engine classical``, a command naming no video."""
    from ecoseg.engine.classical import segment_classical
    from ecoseg.report import report
    from ecoseg.store import MaskStore

    frames = np.full((8, 48, 64, 3), 60, np.uint8)
    for t in range(8):
        frames[t, 10:20, 4 + 3 * t : 14 + 3 * t] = 220
    with MaskStore.create(tmp_path / "masks.zarr", height=48, width=64) as store:
        segment_classical(frames, store, params={"warmup": 8})
    page = html.unescape(report(tmp_path / "masks.zarr", tmp_path / "r.html").read_text())
    assert "(not recorded)' -o" not in page
    assert "# masks: its store records no video; ecoseg has no command for it" in page

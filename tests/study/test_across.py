"""ecoseg.study._across: a study's videos checked against each other (names, one video
listed twice, sites spelled two ways, the output apart from the videos)."""

from __future__ import annotations

import os

import pytest
from study_helpers import refusal, study_text

from ecoseg.errors import ConfigError
from ecoseg.study import load_study


@pytest.mark.parametrize(
    ("video", "output", "expected"),
    [
        ("frames", "frames/out", "output: 'frames/out' is inside the video's image folder frames"),
        ("frames", "frames", "inside the video's image folder"),
        ("out/v.mp4", "out", "the video out/v.mp4 is inside the output folder 'out'"),
    ],
)
def test_output_and_video_stay_apart(tmp_path, video, output, expected):
    # the old code took the output's files for frames of an image folder (its fingerprint
    # changed with every run, so it was segmented again each time) or, for a video kept in
    # the output folder, said the output "was not made by ecoseg study"
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "000.png").write_bytes(b"not really an image")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    path.write_text(
        f"output: {output}\nvideos:\n  - path: {video}\n    fps: 1\n".replace(
            "    fps: 1\n", "    fps: 1\n" if video == "frames" else ""
        )
    )
    with pytest.raises(ConfigError) as info:
        load_study(path)
    assert expected in str(info.value) and str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("North-T1", "north-t1"), "'north-t1' and 'North-T1' (videos[0]) differ only in case"),
        (("Récif", "Re\u0301cif"), "duplicate video name 'Récif'"),  # one name in two forms
        (("RÉCIF", "récif"), "differ only in case"),
    ],
)
def test_names_that_would_share_one_store_folder_are_refused(tmp_path, names, expected):
    # on macOS and Windows the two stores would be one folder: the second video's store
    # would be taken for the first's (and its tables pooled twice) with no error
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    path.write_text(study_text("".join(f"- path: v.mp4\n  name: {n}\n" for n in names)))
    with pytest.raises(ConfigError) as info:
        load_study(path)
    assert expected in str(info.value) and "study.yaml: line 7: videos[1]" in str(info.value)


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        # one clip under two sites (or twice at one) would count in two means, or twice in one
        (
            "- path: ./a.mp4\n  name: y\n  site: South\n",
            "line 7: videos[1] (y): the video ./a.mp4 is also videos[0] (x) at site 'North', "
            "not 'South'; one video is footage of one site",
        ),
        (
            "- path: a.mp4\n  name: y\n  site: North\n  transect: T2\n",
            "line 7: videos[1] (y): the video a.mp4 is also videos[0] (x) with the same "
            "settings; its numbers would count twice: list each video once",
        ),
        # a typo of case or spacing made a third site of two
        (
            "- path: b.mp4\n  name: y\n  site: ' north  '\n",
            "line 9: videos[1] (y): site ' north  ' differs from 'North' (videos[0]) only in "
            "case or spacing; write the site one way",
        ),
    ],
)
def test_one_video_twice_or_one_site_in_two_spellings_is_refused(tmp_path, second, expected):
    for clip in ("a.mp4", "b.mp4"):
        (tmp_path / clip).write_bytes(b"not really a video")
    message = refusal(tmp_path, study_text("- path: a.mp4\n  name: x\n  site: North\n" + second))
    assert message.endswith(expected) and "study.yaml" in message, message


def test_one_site_written_alike_and_one_video_with_two_settings_are_kept(tmp_path):
    for clip in ("a.mp4", "b.mp4"):
        (tmp_path / clip).write_bytes(b"not really a video")
    text = "- {path: a.mp4, site: North}\n- {path: b.mp4, site: North}\n"
    (tmp_path / "study.yaml").write_text(study_text(text))
    assert [v.site for v in load_study(tmp_path / "study.yaml").videos] == ["North", "North"]
    # one video with two settings at its site: two engines compared
    text = "- {path: a.mp4, site: N}\n- {path: a.mp4, name: b, site: N, params: {min_area: 9}}\n"
    (tmp_path / "study.yaml").write_text(study_text(text))
    assert len(load_study(tmp_path / "study.yaml").videos) == 2


def test_one_video_under_another_name_is_one_video(tmp_path):
    """Videos were told apart by their resolved paths: a hard link (one file under two names)
    was two videos, so one clip listed under both names at two sites counted in two site
    means, with no error. They are now compared as every command compares places
    (ecoseg._paths.location_key: the same file is one video)."""
    (tmp_path / "a.mp4").write_bytes(b"not really a video")
    os.link(tmp_path / "a.mp4", tmp_path / "copy.mp4")
    second = "- path: copy.mp4\n  name: y\n  site: South\n"
    message = refusal(tmp_path, study_text("- path: a.mp4\n  name: x\n  site: North\n" + second))
    assert message.endswith(
        "line 7: videos[1] (y): the video copy.mp4 is also videos[0] (x) at site 'North', not "
        "'South'; one video is footage of one site"
    ), message


def test_an_output_inside_an_image_folder_linked_under_another_name_is_refused(tmp_path):
    """The image folder reached through a symbolic link: refused as before (resolved)."""
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "000.png").write_bytes(b"not really an image")
    (tmp_path / "link").symlink_to(tmp_path / "frames")
    path = tmp_path / "study.yaml"
    path.write_text("output: link/out\nvideos:\n  - path: frames\n    fps: 1\n")
    with pytest.raises(ConfigError, match="is inside the video's image folder frames"):
        load_study(path)

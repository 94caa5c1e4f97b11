"""ecoseg.study.config: the study file is validated in full, errors name file and culprit."""

from __future__ import annotations

import pytest
from study_helpers import FAST, refusal, study_text, write_study

from ecoseg.errors import ConfigError
from ecoseg.study import load_study


def test_a_video_entry_of_calibration_none_is_measured_in_pixels(tmp_path):
    """``calibration: none`` (as ``ecoseg measure --calibration none`` spells it) in a video's
    entry overrides the defaults' calibration: that video has none. It was refused as no
    number ("calibration: ... 'none'")."""
    for clip in ("a", "b"):
        (tmp_path / clip).mkdir()
        (tmp_path / clip / "video.mp4").write_bytes(b"")
    path = write_study(tmp_path, extra_b="    calibration: none")
    a, b = load_study(path).videos
    assert a.calibration.mm_per_px == pytest.approx(20.0)  # the defaults'
    assert b.calibration is None and b.calibration_spec is None


def test_a_calibration_with_the_unit_ecoseg_prints_is_recorded_as_the_number(tmp_path):
    """``calibration: 2.5 mm/px`` (as ``ecoseg synth`` prints it) was refused (``'2.5 mm/px'
    is not a number``); now it is ``'2.5'``: the same spec in the manifest, the report's text
    and its ``--calibration`` step as a video given ``'2.5'``."""
    from ecoseg.report._replay import calibration_arg
    from ecoseg.study.manifest import calibration_record

    for clip in ("a", "b"):
        (tmp_path / clip).mkdir()
        (tmp_path / clip / "video.mp4").write_bytes(b"")
    path = write_study(
        tmp_path, extra_a="    calibration: '2.5'", extra_b="    calibration: 2.5 mm/px"
    )
    a, b = load_study(path).videos
    assert b.calibration == a.calibration and b.calibration_spec == a.calibration_spec == "2.5"
    assert calibration_record(b) == calibration_record(a)
    assert calibration_arg(calibration_record(b)) == "2.5"


def test_load_study_resolves_paths_defaults_and_metadata(tmp_path):
    for clip in ("a", "b"):  # the study file is validated without reading the videos
        (tmp_path / clip).mkdir()
        (tmp_path / clip / "video.mp4").write_bytes(b"")
    path = write_study(tmp_path, extra_b="    calibration: 'scale-bar:0,0,50,0,100'")
    study = load_study(path)
    assert study.name == "test-study" and study.title == "Two reefs"
    assert study.output == (tmp_path / "out").resolve()
    a, b = study.videos
    assert (a.name, a.site, a.transect, a.date, a.depth_m) == (
        "reef-a",
        "North",
        "T1",
        "2024-03-12",
        6.5,
    )
    assert a.path == (tmp_path / "a" / "video.mp4").resolve() and a.source == "a/video.mp4"
    assert a.engine == "classical" and a.params == FAST
    assert a.calibration.mm_per_px == pytest.approx(20.0)
    assert b.calibration.mm_per_px == pytest.approx(2.0)  # 100 mm over 50 px
    assert study.store_path(b) == study.output / "stores" / "reef-b.zarr"
    assert b.meta == {
        "video": "reef-b",
        "site": "South",
        "transect": "T2",
        "date": "2024-03-13",
        "depth_m": 9.0,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (study_text("- path: v.mp4\n", top="colour: red\n"), "unknown key 'colour'"),
        (study_text("- path: v.mp4\n  calibraton: 0.5\n"), "did you mean 'calibration'"),
        (study_text("- path: missing.mp4\n"), "(missing): missing.mp4: no such file or directory"),
        (study_text("- path: v.mp4\n  calibration: 0\n"), "videos[0] (v): calibration"),
        (study_text("- path: v.mp4\n  calibration: -2\n"), "calibration"),
        (study_text("- path: v.mp4\n  calibration: 'scale-bar:1,2,3'\n"), "scale-bar"),
        (study_text("- path: v.mp4\n  calibration: 'ruler:1'\n"), "calibration"),
        (study_text("- path: v.mp4\n  engine: deep\n"), "unknown engine 'deep'"),
        (study_text("- path: v.mp4\n  engine: sam2\n"), "needs a `prompts:` file"),
        (study_text("- path: v.mp4\n  model: sam2-huge\n"), "unknown SAM 2 variant"),
        (study_text("- path: v.mp4\n  model: sam3-huge\n"), "unknown SAM 3 model"),
        (study_text("- path: v.mp4\n  model: sam3\n"), "model sam3 needs concepts: `concepts:"),
        (study_text("- path: v.mp4\n  concepts: [a, a]\n"), "'a' is given twice"),
        (  # one name in NFC and NFD (a combining accent) was two concepts, one species
            study_text('- path: v.mp4\n  concepts: ["R\u00e9cif", "Re\\u0301cif"]\n'),
            "'R\u00e9cif' is given twice",
        ),
        (
            study_text("- path: v.mp4\n  concepts: [Parrotfish, ' parrotfish']\n"),
            "'Parrotfish' and 'parrotfish' differ only in case or spacing",
        ),
        (study_text("- path: v.mp4\n  concepts: [a, '']\n"), "concepts: must be a name"),
        (  # YAML's `concepts: a, b` is one name, 'a, b': it tracked one concept, one class
            study_text("- path: v.mp4\n  concepts: parrotfish, wrasse\n"),
            "concepts: concept 'parrotfish, wrasse' holds a comma",
        ),
        (study_text("- path: v.mp4\n  concepts: [a, Unknown]\n"), "concept 'Unknown' is the class"),
        (study_text("- path: v.mp4\n  concepts: a\n  engine: sam2\n"), "drop `engine: sam2`"),
        (study_text("- path: v.mp4\n  concepts: a\n  auto: true\n"), "no `auto: true`"),
        (study_text("- path: v.mp4\n  concepts: a\n  detect_every: 0\n"), "detect_every"),
        (study_text("- path: v.mp4\n  detect_every: 2\n"), "needs `concepts:`"),
        (study_text("- path: v.mp4\n  concepts: a\n  params: {bogus: 1}\n"), "bogus"),
        (study_text("- path: v.mp4\n- path: v.mp4\n"), "duplicate video name 'v'"),
        (study_text("- path: v.mp4\n  name: ../../etc\n"), "escape the output folder"),
        (study_text("- path: v.mp4\n  name: a/b\n"), "escape the output folder"),
        (study_text("- path: v.mp4\n  date: March\n"), "date: must be a date"),
        (study_text("- path: v.mp4\n  image_size: -5\n"), "image_size"),
        (
            study_text("- path: v.mp4\n  concepts: a\n  image_size: 500\n"),
            "image_size: must be a multiple of 14 from 112 to 4032",
        ),
        (study_text("- path: v.mp4\n  auto: true\n  image_size: 500\n"), "multiple of 32"),
        (
            study_text("- path: v.mp4\n  image_size: 512\n"),
            "image_size: applies to the sam2 and sam3 engines; the classical",
        ),
        (study_text("- path: v.mp4\n  fast: quickly\n"), "fast: must be true or false"),
        (study_text("- path: v.mp4\n  fast: true\n"), "fast: is for the networks"),
        (study_text("- path: v.mp4\n  params: {bogus: 1}\n"), "params"),
        (study_text("- path: v.mp4\n  auto: false\n"), "needs a `prompts:` file"),
        (study_text("- path: v.mp4\n  auto: true\n  engine: classical\n"), "drop `engine"),
        (study_text("- path: v.mp4\n  prompts: p.json\n"), "p.json: prompt file not found"),
        (study_text("- path: v.mp4\n  species_model: 3\n"), "species_model: must be a file path"),
        (
            study_text("- path: v.mp4\n  truth: nothing.zarr\n"),
            "nothing.zarr: truth store not found",
        ),
        (study_text("- name: x\n"), "missing `path:`"),
        (study_text("[]\n").replace("videos:\n  []", "videos: []"), "non-empty list"),
        ("just text\n", "a study file is a mapping"),
        ("name: [unclosed\n", "not valid YAML"),
        (
            study_text("- path: v.mp4\n", top="name2: !!python/object/apply:os.system ['ls']\n"),
            "YAML tag not allowed",
        ),
        (study_text("- !!python/object:pathlib.Path {}\n"), "YAML tag not allowed"),
    ],
)
def test_schema_errors_name_the_file_and_the_culprit(tmp_path, text, expected):
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "bad-study.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_study(path)
    message = str(info.value)
    assert expected in message
    assert "bad-study.yaml" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (  # the SAM 2 branch: the network's words (sam2.build's lookup), the closest name
            "model: sam2.1-tyni",
            "model: unknown SAM 2 variant 'sam2.1-tyni'; valid names: sam2.1-tiny, "
            "sam2.1-small, sam2.1-base-plus, sam2.1-large, sam2-tiny, sam2-small, "
            "sam2-base-plus, sam2-large (did you mean 'sam2.1-tiny'?)",
        ),
        (  # the SAM 3 branch: concept_request's (get_config's) words
            "model: sam3-reducd\n  concepts: wrasse",
            "model: unknown SAM 3 model 'sam3-reducd'; valid names: sam3, sam3-reduced "
            "(did you mean 'sam3-reduced'?)",
        ),
        ("model: 3", "model: unknown SAM 2 variant 3; valid names: sam2.1-tiny,"),
        ("model: [sam3]\n  concepts: a", "model: unknown SAM 3 model ['sam3']; valid names"),
    ],
)
def test_an_unknown_model_is_refused_in_the_networks_words(tmp_path, entry, said):
    """The study asks the lookup ``segment`` asks (``get_variant``, ``get_config``) rather
    than a list of its own: the message is the network's, with the valid names, after the
    file, the line and the key (it was the study's own ``unknown SAM 2 variant 'x'``)."""
    message = refusal(tmp_path, study_text(f"- path: v.mp4\n  {entry}\n"))
    assert f"study.yaml: line 5: videos[0] (v): {said}" in message
    assert "\n" not in message


def test_every_model_the_networks_know_is_taken(tmp_path):
    """The names a study file takes are the networks' own (one list decides)."""
    from ecoseg.sam2.variants import VARIANTS
    from ecoseg.sam3.config import PRESETS

    (tmp_path / "v.mp4").write_bytes(b"")
    for name in [*VARIANTS, *PRESETS]:
        run = "concepts: wrasse" if name in PRESETS else "auto: true"  # a network's video
        (tmp_path / "study.yaml").write_text(
            study_text(f"- path: v.mp4\n  model: {name}\n  {run}\n")
        )
        assert load_study(tmp_path / "study.yaml").videos[0].model == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: s\ncolour: red\nvideos: [v.mp4]\n", "line 2: unknown key 'colour'"),
        ("defaults:\n  engine: classical\n  calbration: 2\nvideos: [v.mp4]\n", "line 3: defaults:"),
        (
            "videos:\n  - path: v.mp4\n  - path: v.mp4\n    name: b\n\n    calibraton: 0.5\n",
            "study.yaml: line 6: videos[1] (b): unknown key 'calibraton' (did you mean",
        ),
    ],
)
def test_an_unknown_key_is_named_with_its_line(tmp_path, text, expected):
    # in a study of 40 videos, "videos[23]" alone sent the user counting entries
    message = refusal(tmp_path, text)
    assert expected in message and "\n" not in message


def test_missing_study_file(tmp_path):
    with pytest.raises(ConfigError, match="study file not found"):
        load_study(tmp_path / "nope.yaml")


@pytest.mark.parametrize("given", [{"videos": []}, 3, None])
def test_what_is_no_study_file_is_named_in_one_line(given):
    """``load_study(yaml.safe_load(...))`` (the file's dict) was pathlib's TypeError 'expected
    str, bytes or os.PathLike object, not dict'."""
    with pytest.raises(TypeError, match="^load_study: path must be a study file \\(YAML\\), got"):
        load_study(given)


@pytest.mark.parametrize(
    ("fault", "culprit"),
    [
        ("removed", "study file not found"),
        ("denied", "cannot be read: Permission denied"),
        ("latin-1", "line 1: not UTF-8 text (byte 0xe9); save it as UTF-8"),
    ],
)
def test_a_study_file_that_fails_when_read_is_one_line_in_the_house_wording(
    fault, culprit, tmp_path, read_fault
):
    # it said "PATH: cannot read the study file ([Errno 13] Permission denied: 'PATH')", with
    # the path twice, and a file removed after its check was not "not found"
    path = tmp_path / "study.yaml"
    path.write_bytes(
        "name: récif\nvideos: []\n".encode("latin-1" if fault == "latin-1" else "utf-8")
    )
    if fault != "latin-1":
        read_fault(path, fault)
    with pytest.raises(ConfigError) as info:
        load_study(path)
    assert str(info.value) == f"{path}: {culprit}"


def test_a_study_file_with_windows_line_ends_names_the_same_lines(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_bytes(b"name: demo\r\noutput: out\r\nvideos: []\r\nspeed: 3\r\n")
    with pytest.raises(ConfigError, match=r"study\.yaml: line 4: unknown key 'speed'"):
        load_study(path)


def test_a_folder_for_the_study_file_is_named_a_folder(tmp_path):
    # 'study file not found' of a path that exists sent the user looking for a typo
    (tmp_path / "study").mkdir()
    with pytest.raises(ConfigError, match=r"study: is a folder, not a study file \(YAML\)$"):
        load_study(tmp_path / "study")


def test_a_folder_for_the_prompt_file_is_named_a_folder(tmp_path):
    # 'prompts file not found: prompts' of a folder that exists sent the user looking for a typo
    (tmp_path / "prompts").mkdir()
    message = refusal(tmp_path, "videos:\n  - path: v.mp4\n    prompts: prompts\n")
    assert message == (
        f"{tmp_path / 'study.yaml'}: line 3: videos[0] (v): prompts: is a folder, not a prompt "
        "file (JSON)"
    )


def test_a_folder_for_the_species_model_is_named_a_folder(tmp_path):
    # 'species_model: no such model file' of a folder that exists
    (tmp_path / "model").mkdir()
    message = refusal(tmp_path, "videos:\n  - path: v.mp4\n    species_model: model\n")
    assert message == (
        f"{tmp_path / 'study.yaml'}: line 3: videos[0] (v): model: is a folder, not a species "
        "model file (JSON)"
    )


def test_output_must_not_be_the_study_folder(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"x")
    path = tmp_path / "s.yaml"
    path.write_text("output: .\nvideos: [v.mp4]\n")
    with pytest.raises(ConfigError, match="folder of its own"):
        load_study(path)


@pytest.mark.parametrize("output", [".", "..", "../s", "../../"])
def test_an_output_that_is_the_study_s_folder_or_above_it_is_refused(tmp_path, output):
    """The study's folder or a folder above it was refused by comparing paths as written:
    ``output: ..`` (``s/..``, not among the folder's parents as written) was taken, and a
    study of videos kept elsewhere wrote its stores and tables among the parent folder's
    files."""
    (tmp_path / "s").mkdir()
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "s" / "study.yaml"
    path.write_text(f"output: {output}\nvideos:\n  - path: {tmp_path / 'videos' / 'v.mp4'}\n")
    with pytest.raises(ConfigError, match=f"line 1: output: '{output}' must be a folder of its"):
        load_study(path)


def test_video_names_may_contain_spaces(tmp_path):
    (tmp_path / "site 1 dive.mp4").write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    path.write_text(study_text("- path: site 1 dive.mp4\n- path: v.mp4\n  name: ' lead'\n"))
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    with pytest.raises(ConfigError, match="name ' lead'"):
        load_study(path)
    path.write_text(study_text("- path: site 1 dive.mp4\n"))
    assert [v.name for v in load_study(path).videos] == ["site 1 dive"]


def test_video_names_may_be_in_any_script_and_are_one_unicode_form(tmp_path):
    # a reef named in French: the file's own name is the video's name, as an ASCII name is
    nfd = "Re\u0301cif nord"  # how macOS lists "Récif nord"
    (tmp_path / f"{nfd}.mp4").write_bytes(b"not really a video")
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    path.write_text(study_text(f"- path: {nfd}.mp4\n- path: v.mp4\n  name: Île-2\n"))
    study = load_study(path)
    assert [v.name for v in study.videos] == ["Récif nord", "Île-2"]  # NFC, whatever was typed
    assert study.store_path(study.videos[0]).name == "Récif nord.zarr"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [1]\nvideos: [v.mp4]\n", "study.yaml: line 1: name: must be a string"),
        ("name: s\ndefaults: [engine]\nvideos: [v.mp4]\n", "line 2: defaults: must be a mapping"),
        ("name: s\nvideos: {a: 1}\n", "line 2: videos: must be a non-empty list"),
        ("videos:\n  - v.mp4\n  - [v.mp4]\n", "line 3: videos[1]: must be a mapping"),
        (
            "videos:\n  - path: v.mp4\n\n    fps: ten\n",
            "study.yaml: line 4: videos[0] (v): fps: must be a number of frames per second, "
            "got 'ten'",
        ),
        ("videos:\n  - path: v.mp4\n    calibration: [1]\n", "line 3: videos[0] (v): calibration:"),
        ("videos:\n  - path: v.mp4\n    params: [1, 2]\n", "line 3: videos[0] (v): params: must"),
        ("videos:\n  - path: v.mp4\n    site: [N]\n", "line 3: videos[0] (v): site: must be text"),
        ("videos:\n  - path: v.mp4\n    depth_m: deep\n", "line 3: videos[0] (v): depth_m:"),
        (  # a depth above the surface was taken, and shown in the report and the tables
            "videos:\n  - path: v.mp4\n    site: N\n    depth_m: -6.5\n",
            "study.yaml: line 4: videos[0] (v): depth_m: is the depth below the surface in "
            "metres, 0 or more, got -6.5",
        ),
        (  # a date YAML cannot build was refused without a line (or a video)
            "videos:\n  - path: v.mp4\n    date: 2023-13-45\n",
            "study.yaml: line 3: videos[0] (v): date: must be a date like 2024-03-12, got "
            "'2023-13-45' (month must be in 1..12)",
        ),
        ("videos:\n  - path: v.mp4\n    pretrained: 'no'\n", "line 3: videos[0] (v): pretrained:"),
        ("videos:\n  - path: [v.mp4]\n", "line 2: videos[0]: path: must be a string"),
        ("videos:\n  - path: v.mp4\n    concepts: {a: 1}\n", "line 3: videos[0] (v): concepts:"),
        (
            "videos:\n  - path: v.mp4\n    concepts: a\n    detect_every: two\n",
            "line 4: videos[0] (v): detect_every: must be a positive integer",
        ),
        # a value taken from defaults: is named with its line there
        (
            "defaults:\n  engine: classical\n  fps: ten\nvideos:\n  - path: v.mp4\n",
            "line 3: videos[0] (v): fps: must be a number",
        ),
        (
            "defaults:\n  params: oops\nvideos:\n  - path: v.mp4\n    params: {warmup: 2}\n"
            "  - path: v.mp4\n    name: b\n",
            "line 2: videos[1] (b): params: must be a mapping",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_named_with_its_line(tmp_path, text, expected):
    # only unknown keys named their line; `fps: "ten"` in a study of 40 videos said videos[23]
    message = refusal(tmp_path, text)
    assert expected in message and "\n" not in message


@pytest.mark.parametrize(("written", "depth"), [("0", 0.0), ("-0.0", 0.0), ("12.5", 12.5)])
def test_a_depth_at_or_below_the_surface_is_taken(tmp_path, written, depth):
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    (tmp_path / "study.yaml").write_text(f"videos:\n  - path: v.mp4\n    depth_m: {written}\n")
    taken = load_study(tmp_path / "study.yaml").videos[0].depth_m
    assert taken == depth and str(taken) == str(depth)  # the surface is 0.0, never -0.0


def test_a_default_some_video_takes_or_every_video_overrides_is_kept(tmp_path):
    """One video that takes it is enough; a default every entry overrides is no surprise."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    path.write_text(
        "output: out\ndefaults:\n  model: sam3\n  params: {min_area: 30, score_threshold: 0.3}\n"
        "videos:\n  - {path: v.mp4, name: a, concepts: [wrasse]}\n  - {path: v.mp4, name: b}\n"
        "  - {path: v.mp4, name: c, auto: true, model: sam2.1-large, params: {}}\n"
    )
    a, b, c = load_study(path).videos
    assert (a.model, a.params) == ("sam3", {"score_threshold": 0.3})
    assert b.params == {"min_area": 30}
    assert (c.model, c.params) == ("sam2.1-large", {})

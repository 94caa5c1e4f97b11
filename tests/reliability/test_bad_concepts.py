"""Mistakes with the newest features: SAM 3 concept tracking options and the weights command.
Options that concept tracking cannot use were ignored without a word, an unknown setting was a
Python ``__init__`` message, and ``ecoseg weights`` adopted any file and listed no SAM 3 among
the valid names."""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import assert_names, assert_one_line_error, run_cli

import ecoseg
from ecoseg.errors import CheckpointError, ConfigError, PromptError

pytestmark = pytest.mark.bad_input

SAM3 = ["--model", "sam3-reduced", "--random-weights", "--device", "cpu", "--concepts", "coral"]
SAM3_ARGS = {"model": "sam3-reduced", "pretrained": False, "device": "cpu", "progress": False}


@pytest.mark.parametrize(
    "extra",
    [["--forward-only"], ["--key-interval", "3"], ["--discovery", "{}"]],
    ids=["forward-only", "key-interval", "discovery"],
)
def test_concept_tracking_refuses_an_option_it_would_ignore(cli, clip, tmp_path, extra):
    """The run went ahead as if the option had not been given."""
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3, *extra)
    assert_one_line_error(code, err, str(clip.video), extra[0], "concept tracking")
    assert "backward=" not in err  # the command's spelling only, not the Python keyword's
    assert not out.exists()


def test_concept_tracking_refuses_backward_false(clip, tmp_path):
    """``segment(..., concepts=[...], backward=False)`` ignored ``backward``."""
    out = tmp_path / "m.zarr"
    with pytest.raises(ConfigError) as exc:
        ecoseg.segment(clip.video, out=out, concepts=["coral"], backward=False, progress=False)
    assert_names(exc, "backward=False (--forward-only)", "concept tracking")
    assert not out.exists()


def test_an_unknown_concept_setting_is_named_with_the_known_ones(cli, clip, tmp_path):
    """It was 'ConceptSettings.__init__() got an unexpected keyword argument 'bogus''."""
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3, "--params", '{"bogus": 1}')
    line = assert_one_line_error(code, err, "unknown parameter 'bogus'", "score_threshold")
    assert "__init__" not in line
    assert not out.exists()


def test_a_misspelt_concept_setting_is_named_with_its_likely_spelling(cli, clip, tmp_path):
    """``{"score_treshold": 0.3}`` was named with all 27 known settings to read through; the
    close one comes first now (the classical engine's and discovery's settings alike)."""
    out = tmp_path / "m.zarr"
    params = '{"score_treshold": 0.3}'
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3, "--params", params)
    said = "unknown parameter 'score_treshold' (did you mean 'score_threshold'?); known: "
    assert_one_line_error(code, err, said)
    assert not out.exists()


@pytest.mark.parametrize("action", ["download", "path", "verify"])
def test_an_unknown_weights_name_lists_sam3_too(cli, tmp_path, monkeypatch, action):
    """It was "unknown SAM 2 variant 'sam4'; valid names:" and the SAM 2 names only."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    code, _, err = cli("weights", action, "sam4")
    assert_one_line_error(code, err, "unknown weights 'sam4'", "sam2.1-tiny", "sam3")
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("action", ["download", "path", "verify"])
def test_the_test_configuration_is_named_as_having_no_weights(cli, tmp_path, monkeypatch, action):
    """``ecoseg weights download sam3-reduced`` (the model of the laptop trial in
    docs/concepts.md) said only "unknown weights 'sam3-reduced'", as of a typo."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    code, _, err = cli("weights", action, "sam3-reduced")
    said = (
        "unknown weights 'sam3-reduced': a small test configuration with no published weights "
        "(segment --model sam3-reduced --random-weights runs it); valid names: "
    )
    assert_one_line_error(code, err, said, "sam3")
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("content", ["garbage", "foreign"])
def test_adopting_a_file_that_is_not_sam3_weights_is_refused(cli, tmp_path, monkeypatch, content):
    """``ecoseg weights download sam3 --checkpoint FILE`` copied any file into the cache and
    exited 0; only the next ``segment`` found it was no checkpoint, naming the cached copy."""
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    given = tmp_path / "sam3.pt"
    if content == "garbage":
        given.write_text("not weights\n")
    else:
        torch.save({"model": {"image_encoder.weight": torch.zeros(2)}}, given)
    code, _, err = cli("weights", "download", "sam3", "--checkpoint", given)
    assert_one_line_error(code, err, str(given))
    assert not (tmp_path / "cache" / "sam3" / "sam3.pt").exists()


@pytest.mark.parametrize("vocabulary", ["none", "broken"])
def test_adopting_weights_without_a_usable_vocabulary_offline_adopts_nothing(
    cli, tmp_path, monkeypatch, vocabulary
):
    """Offline, ``weights download sam3 --checkpoint FILE`` asked the hub six times for
    vocab.json (30 s of retry warnings), then adopted the checkpoint without a vocabulary and
    exited 0; concept prompts failed only later."""
    import socket

    torch = pytest.importorskip("torch")
    hub = pytest.importorskip("huggingface_hub")
    from ecoseg.sam3 import weights

    def no_network(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    asked = []
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(hub, "hf_hub_download", lambda **kw: asked.append(kw) or 1 / 0)
    monkeypatch.setattr(weights, "VOCABULARY_PACKAGES", (), raising=False)
    for key in ("HF_HUB_OFFLINE", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    given = tmp_path / "sam3.pt"
    torch.save(
        {"model": {"detector.backbone.vision_backbone.trunk.pos_embed": torch.ones(2)}}, given
    )
    if vocabulary == "none":
        culprits = (f"{given}: no tokenizer vocabulary", "no network", "vocab.json + merges.txt")
    else:
        (tmp_path / "bpe_simple_vocab_16e6.txt.gz").write_text("not gzip\n")
        culprits = (f"{tmp_path / 'bpe_simple_vocab_16e6.txt.gz'}: not a usable tokenizer",)
    code, _, err = cli("weights", "download", "sam3", "--checkpoint", given)
    assert_one_line_error(code, err, *culprits, "nothing was adopted")
    assert asked == [] and not (tmp_path / "cache" / "sam3" / "sam3.pt").exists()


def test_an_exemplar_box_past_the_edge_is_warned_about_once(cli, tmp_path):
    """The warning came twice: once naming the prompt file, then again without it."""
    import json

    pytest.importorskip("torch")
    short = ecoseg.synth(tmp_path / "clip", frames=2, size=(64, 48), seed=1)
    prompts = tmp_path / "p.json"
    box = [40, 10, 90, 30]  # reaches past the right edge of the 64x48 frame
    prompts.write_text(json.dumps({"concepts": [{"text": "fish", "exemplars": [
        {"frame": 0, "box": box}]}]}))  # fmt: skip
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", short.video, "-o", out, *SAM3[:5], "--prompts", prompts)
    assert code == 0, err
    warned = [line for line in err.splitlines() if "reaches past the edge" in line]
    assert len(warned) == 1, err
    assert warned[0].startswith(f"ecoseg: warning: {prompts}: concept 'fish'")


@pytest.mark.parametrize("where", ["--concepts", "prompt file", "python"])
def test_a_blank_concept_is_named_by_its_place(cli, clip, tmp_path, where):
    """``--concepts fish " "`` (or a prompt file's ``{"text": "  "}``) was refused as
    *a concept needs a non-empty text, exemplars or both, got ' '*: the spaces echoed in
    quotes, hard to read; now *concepts[1] is blank (only spaces); give a name such as ...*,
    the JSON path every other message about a prompt file's concepts uses."""
    import json

    out = tmp_path / "m.zarr"
    if where == "python":  # the argument's name: it said "--concepts: ", an option not given
        with pytest.raises(PromptError) as exc:
            ecoseg.segment(clip.video, out=out, concepts=["fish", "  "], **SAM3_ARGS)
        assert str(exc.value).startswith("concepts: concepts[1] is blank (only spaces); give")
        assert not out.exists()
        return
    if where == "--concepts":
        given, culprit = ["--concepts", "fish", "  "], "--concepts: concepts[1]"
    else:
        prompts = tmp_path / "p.json"
        prompts.write_text(json.dumps({"concepts": ["fish", {"text": "  "}]}))
        given, culprit = ["--prompts", prompts], f"{prompts}: concepts[1]"
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3[:5], *given)
    line = assert_one_line_error(
        code, err, culprit, 'is blank (only spaces); give a name such as "'
    )
    assert "' '" not in line and "got '" not in line
    assert not out.exists()


def test_an_extra_word_names_the_subcommand_and_its_help():
    """``ecoseg weights list sam3`` said 'unrecognized arguments: sam3 (see `ecoseg --help`)',
    naming neither the command nor its help."""
    done = run_cli("weights", "list", "sam3")
    assert_one_line_error(
        done.returncode,
        done.stderr,
        "weights list: unrecognized arguments: sam3",
        "`ecoseg weights list --help`",
    )


@pytest.mark.parametrize("where", ["--concepts", "python"])
def test_concepts_alike_a_prompt_files_name_the_argument_as_given(cli, clip, tmp_path, where):
    """From Python, ``segment(video, "p.json", concepts=["Fish"])`` said "--concepts and p.json:
    ...", an option nobody gave; the command line keeps "--concepts"."""
    import json

    out = tmp_path / "m.zarr"
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps({"concepts": ["fish"]}))
    alike = f"concepts and {prompts}: concept 'Fish' and the prompt file's concept 'fish' differ"
    if where == "python":
        with pytest.raises(PromptError) as exc:
            ecoseg.segment(clip.video, prompts, out=out, concepts=["Fish"], **SAM3_ARGS)
        assert str(exc.value).startswith(alike)
    else:
        given = [*SAM3[:5], "--concepts", "Fish", "--prompts", prompts]
        code, _, err = cli("segment", clip.video, "-o", out, *given)
        assert_one_line_error(code, err, f"ecoseg: error: --{alike}")
    assert not out.exists()


@pytest.fixture
def no_sam3_model(monkeypatch):
    """Fail the test if a SAM 3 network is made or a checkpoint read (the vocabulary must be
    checked before that)."""
    import ecoseg.sam3.checkpoint
    import ecoseg.sam3.model

    def refuse(*args, **kwargs):
        raise AssertionError("the checkpoint was loaded before the missing vocabulary was named")

    monkeypatch.setattr(ecoseg.sam3.model, "SAM3Model", refuse)
    monkeypatch.setattr(ecoseg.sam3.checkpoint, "load_checkpoint", refuse)


@pytest.mark.parametrize("present", [[], ["vocab.json"]], ids=["none", "no-merges"])
def test_cached_sam3_weights_without_their_vocabulary_are_refused_before_loading(
    cli, clip, tmp_path, monkeypatch, no_sam3_model, present
):
    """With sam3.pt cached and its vocabulary not, the run built SAM 3 and read the
    checkpoint (3 GB, minutes) before concept tracking found no tokenizer."""
    cache = tmp_path / "cache"
    (cache / "sam3").mkdir(parents=True)
    (cache / "sam3" / "sam3.pt").write_bytes(b"weights")
    for name in present:
        (cache / "sam3" / name).write_text("{}")
    missing = "merges.txt" if present else "vocab.json"
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(cache))
    out = tmp_path / "m.zarr"
    args = ["--model", "sam3", "--device", "cpu", "--concepts", "coral"]
    code, _, err = cli("segment", clip.video, "-o", out, *args)
    assert_one_line_error(
        code, err, str(cache / "sam3" / missing), "is missing", "ecoseg weights download sam3"
    )
    assert not out.exists()


@pytest.mark.parametrize("source", ["video", "photo"])
def test_a_sam3_checkpoint_without_a_vocabulary_is_refused_before_loading(
    cli, clip, tmp_path, monkeypatch, no_sam3_model, source
):
    """A --checkpoint with no vocabulary beside it or in the cache was read whole before
    concept tracking (or the segmentation of a photograph) said the cache had none."""
    from PIL import Image

    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    given = tmp_path / "downloads" / "sam3.pt"
    given.parent.mkdir()
    given.write_bytes(b"\x80\x02weights")  # a pickle's first bytes: it may be a checkpoint
    video = clip.video
    if source == "photo":
        video = tmp_path / "quadrat.png"
        Image.new("RGB", (40, 30)).save(video)
    out = tmp_path / "m.zarr"
    args = ["--model", "sam3", "--checkpoint", given, "--device", "cpu", "--concepts", "coral"]
    code, _, err = cli("segment", video, "-o", out, *args)
    assert_one_line_error(code, err, f"{given}: no tokenizer vocabulary beside it", "vocab.json")
    assert not out.exists()
    with pytest.raises(CheckpointError) as exc:  # the Python call too
        # (as the command: SAM 3's weights from the file, not random ones beside it)
        ecoseg.segment(
            video, out=out, concepts=["coral"], checkpoint=given, model="sam3", device="cpu"
        )
    assert_names(exc, str(given), "bpe_simple_vocab_16e6.txt.gz")
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"species,count\nwrasse,2\n", "not a checkpoint (it holds text"),
        (b"\xff\xd8\xff\xe0 JFIF photo", "not a checkpoint (not a torch .pt/.pth file"),
        (b"", "file is empty (0 bytes), not a checkpoint"),
    ],
    ids=["text", "jpeg", "empty"],
)
def test_a_sam3_checkpoint_that_is_no_checkpoint_is_named_before_its_vocabulary(
    cli, clip, tmp_path, monkeypatch, no_sam3_model, content, said
):
    """A --checkpoint that is no checkpoint at all (a CSV, a photograph, an empty file) with
    no vocabulary beside it was told to get a vocabulary ('no tokenizer vocabulary beside
    it ... put vocab.json + merges.txt next to it'); with one there, the next run said it was
    not a checkpoint. The file's own problem is named first, in the build's words."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    given = tmp_path / "downloads" / "sam3.pt"
    given.parent.mkdir()
    given.write_bytes(content)
    out = tmp_path / "m.zarr"
    args = ["--model", "sam3", "--checkpoint", given, "--device", "cpu", "--concepts", "coral"]
    code, _, err = cli("segment", clip.video, "-o", out, *args)
    line = assert_one_line_error(code, err, f"{given}: {said}", "ecoseg weights download sam3")
    assert "vocabulary" not in line
    assert not out.exists()


@pytest.mark.parametrize("checkpoint", [False, True], ids=["preset", "checkpoint"])
def test_an_unknown_sam3_model_is_refused_before_the_video_is_opened(cli, tmp_path, checkpoint):
    """``--model sam3-large`` was refused only when the network was built, after the video
    was opened: a missing video was the error reported. A checkpoint is built on a preset too."""
    video, out, given = tmp_path / "missing.mp4", tmp_path / "m.zarr", tmp_path / "w.pt"
    given.write_bytes(b"weights")
    extra = ["--checkpoint", given] if checkpoint else []
    code, _, err = cli(
        "segment", video, "-o", out, "--model", "sam3-large", "--concepts", "fish", *extra
    )
    said = "unknown SAM 3 model 'sam3-large'; valid names: sam3, sam3-reduced"
    line = assert_one_line_error(code, err, said)
    assert "missing.mp4" not in line
    with pytest.raises(ConfigError) as exc:  # the Python call too
        ecoseg.segment(
            video,
            out=out,
            concepts=["fish"],
            model="sam3-large",
            checkpoint=given if checkpoint else None,
        )
    assert_names(exc, said)
    assert not out.exists()


@pytest.mark.parametrize("command", ["segment", "batch"])
@pytest.mark.parametrize(
    ("model", "said"),
    [
        (["sam3-large", "--concepts", "fish"], "unknown SAM 3 model 'sam3-large'; valid names:"),
        (["sam3-large"], "unknown SAM 3 model 'sam3-large'; valid names:"),
        (["sam2.1-huge", "--auto"], "unknown SAM 2 variant 'sam2.1-huge'; valid names:"),
        (["sam3-reduced", "--concepts", "fish"], "sam3-reduced has no published weights"),
    ],
    ids=["sam3-concepts", "sam3", "sam2-auto", "unpublished"],
)
def test_a_missing_checkpoint_of_a_model_without_weights_to_download_says_so(
    cli, clip, tmp_path, command, model, said
):
    """``--model sam3-large --checkpoint nope.pt`` said *nope.pt: checkpoint file not found;
    `ecoseg weights download sam3-large` fetches the official weights ...*, a command that
    fails (so for ``sam2.1-huge`` and for ``sam3-reduced``, which has no published weights):
    an unknown model is named first, in the network build's words, and a model without
    published weights is told so."""
    out = tmp_path / "out"
    args = ["-o", out, "--model", *model, "--checkpoint", tmp_path / "nope.pt"]
    code, _, err = cli(command, clip.video, *args)
    line = assert_one_line_error(code, err, said)
    assert "weights download" not in line
    assert not out.exists()


@pytest.mark.parametrize("key", ["concept", "object"])
def test_a_misspelt_prompt_file_key_is_named(cli, clip, tmp_path, key):
    """``{"concept": ["fish"]}`` said *expected an object with an 'objects' list (or a
    'concepts' list)*, naming nothing the user wrote; it names the unknown key now."""
    import json

    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps({key: ["fish"]}))
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3[:5], "--prompts", prompts)
    assert_one_line_error(code, err, str(prompts), f"unknown key(s) ['{key}']")
    assert not out.exists()


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            {"concepts": [{"name": "parrotfish"}]},
            "concepts[0] has unknown key(s) ['name'] (a concept takes 'text' and 'exemplars')",
        ),
        (
            {
                "concepts": [
                    {
                        "text": "fish",
                        "exemplars": [{"frame": 0, "box": [1, 1, 9, 9], "positive": 1}],
                    }
                ]
            },
            "exemplar has unknown key(s) ['positive'] (an exemplar takes 'frame', 'box' and "
            "'label')",
        ),
        (
            {"objects": [{"id": 1, "species": "wrasse", "prompts": []}]},
            "objects[0] has unknown key(s) ['species'] (an object takes 'id', 'class' and "
            "'prompts')",
        ),
    ],
    ids=["concept", "exemplar", "object"],
)
def test_an_unknown_key_in_a_prompt_file_entry_names_the_known_ones(
    cli, clip, tmp_path, data, said
):
    """``{"concepts": [{"name": "parrotfish"}]}`` said *concepts[0] has unknown key(s)
    ['name']*, leaving the user to guess the key it takes (a click's prompt named its keys)."""
    import json

    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps(data))
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3[:5], "--prompts", prompts)
    assert_one_line_error(code, err, str(prompts), said)
    assert not out.exists()


@pytest.mark.parametrize("where", ["--params", "python"])
def test_detect_every_in_the_settings_alone_says_how_to_give_it(cli, clip, tmp_path, where):
    """``--params '{"detect_every": 2}'`` without ``--detect-every`` said *detect_every 2
    differs from --detect-every 1*, an option nobody gave; it names its default and the
    option to give now."""
    out = tmp_path / "m.zarr"
    if where == "python":
        with pytest.raises(ConfigError) as exc:
            ecoseg.segment(clip.video, out=out, concepts=["coral"], params={"detect_every": 2},
                           **SAM3_ARGS)  # fmt: skip
        assert_names(exc, "detect_every=1 (--detect-every, its default)", "detect_every=2")
    else:
        given = ["--params", '{"detect_every": 2}']
        code, _, err = cli("segment", clip.video, "-o", out, *SAM3, *given)
        assert_one_line_error(code, err, "--detect-every 1 (its default)", ": --detect-every 2")
    assert not out.exists()


def test_detect_every_in_the_settings_that_is_no_count_is_named(cli, clip, tmp_path):
    """``--params '{"detect_every": "2"}'`` was told to give ``--detect-every '2'``."""
    out = tmp_path / "m.zarr"
    given = ["--params", '{"detect_every": "2"}']
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3, *given)
    assert_one_line_error(code, err, "detect_every must be a positive integer, got '2'")
    assert not out.exists()


@pytest.mark.parametrize("name", ["unknown", "Visual"])
@pytest.mark.parametrize("where", ["--concepts", "prompt file", "survey"])
def test_a_concept_named_as_a_track_nobody_named_is_refused(cli, clip, tmp_path, where, name):
    """``--concepts unknown`` tracked the concept and stored its tracks as ``unknown`` (counted
    apart as unnamed, yet with the concept as class source); a text ``visual`` made tracks that
    ``classify`` renamed as if no name had been typed."""
    import json

    import imageio.v3 as iio

    out = tmp_path / "m.zarr"
    video, given, place = clip.video, ["--concepts", "fish", name], "--concepts"
    if where == "prompt file":
        prompts = tmp_path / "p.json"
        prompts.write_text(json.dumps({"concepts": ["fish", {"text": name}]}))
        given, place = ["--prompts", prompts], str(prompts)
    elif where == "survey":
        video = tmp_path / "quadrats"
        video.mkdir()
        iio.imwrite(video / "q1.png", np.zeros((24, 32, 3), np.uint8))
    code, _, err = cli("segment", video, "-o", out, *SAM3[:5], *given)
    assert_one_line_error(code, err, f"{place}: concept {name!r} is the class of")
    assert not out.exists()


def test_a_survey_folder_with_a_renamed_photograph_names_it(cli, tmp_path):
    """``classify SURVEY --video FOLDER`` with one photograph renamed said *its image names
    differ from those the store records*, naming none; it names the first that differs."""
    import json
    import shutil
    from pathlib import Path

    from PIL import Image

    folder = tmp_path / "quadrats"
    folder.mkdir()
    for name in ("north.png", "south.png"):
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(folder / name)
    coco = tmp_path / "survey.json"
    coco.write_text(json.dumps({
        "images": [{"id": k, "file_name": n, "width": 8, "height": 6}
                   for k, n in enumerate(("north.png", "south.png"), 1)],
        "categories": [{"id": 1, "name": "brain coral"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 2]}],
    }))  # fmt: skip
    store = tmp_path / "survey.zarr"
    code, _, err = cli("import", coco, "--format", "coco", "--video", folder, "-o", store)
    assert code == 0, err
    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)
    (moved / "south.png").rename(moved / "west.png")
    model = Path(ecoseg.__file__).parents[1] / "data" / "species_model.json"  # the shipped one
    code, _, err = cli("classify", store, "--model", model, "--video", moved, "--calibration", 1)
    assert_one_line_error(code, err, str(moved), "(image 2: west.png, the store's south.png)")


@pytest.mark.parametrize("where", ["--concepts", "prompt file"])
def test_two_concepts_typed_as_one_with_a_comma_are_refused(cli, clip, tmp_path, where):
    """``--concepts parrotfish,wrasse`` (napari's *find* box takes names so) tracked one
    concept 'parrotfish,wrasse', its tracks one class, without a word."""
    import json

    out = tmp_path / "m.zarr"
    given, place = ["--concepts", "parrotfish,wrasse"], "--concepts"
    if where == "prompt file":
        prompts = tmp_path / "p.json"
        prompts.write_text(json.dumps({"concepts": ["parrotfish, wrasse"]}))
        given, place = ["--prompts", prompts], str(prompts)
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3[:5], *given)
    assert_one_line_error(code, err, f"{place}: concept 'parrotfish", "holds a comma", "'wrasse')")
    assert not out.exists()


@pytest.fixture(scope="module")
def concept_predictor():
    """A SAM 3 concept predictor on random weights, with the byte tokenizer a random-weights
    run uses."""
    pytest.importorskip("torch")
    from ecoseg import sam3
    from ecoseg.engine.concept_session import concept_tokenizer
    from ecoseg.engine.settings import build_network

    net = build_network(sam3, "sam3-reduced", None, False, None, "cpu")
    return sam3.ConceptPredictor(net, tokenizer=concept_tokenizer(net, False))


IMAGE_BOXES = [  # (exemplars, the one-line refusal)
    ([[100, 100, 120, 120]], "exemplar 0: box [100.0, 100.0, 120.0, 120.0] is outside the 64x48"),
    (
        [{"box": [10, 10, 20, 20]}, {"box": [70, 0, 80, 10], "label": 0}],
        "exemplar 1: box [70.0, 0.0, 80.0, 10.0] is outside the 64x48 image",  # said frame
    ),
    ([[[10, 10], [20, 20]]], "exemplar 0: box must be [x0, y0, x1, y1], got [[10.0, 10.0], [20"),
    ([[10, 10, 5, 20]], "exemplar 0: box [10.0, 10.0, 5.0, 20.0] is empty or inverted"),
]


@pytest.mark.parametrize(
    ("exemplars", "said"), IMAGE_BOXES, ids=["outside", "outside-dict", "pairs", "inverted"]
)
def test_concept_predictor_refuses_an_exemplar_box_as_a_prompt_file_does(
    concept_predictor, exemplars, said
):
    """``ConceptPredictor.predict`` took an exemplar box outside the image (and one written
    as corner pairs, read flat) without a word; now refused as a prompt file's exemplar box is
    (the same checks), naming the box and the image size (the image's: it said "frame", the
    word of a prompt file for a video)."""
    image = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(PromptError) as info:
        concept_predictor.predict(image, text="fish", exemplars=exemplars)
    assert said in str(info.value) and "\n" not in str(info.value)


def test_concept_predictor_cuts_an_exemplar_box_past_the_edge_with_a_warning(concept_predictor):
    """As a prompt file's exemplar box reaching past the frame's edge is cut, with a warning."""
    from ecoseg.errors import PromptClippedWarning

    image = np.zeros((48, 64, 3), np.uint8)
    with pytest.warns(PromptClippedWarning, match=r"exemplar 0: box .* cut to \[50.0, 10.0, 64.0"):
        concept_predictor.predict(image, text="fish", exemplars=[[50, 10, 90, 30]])


@pytest.mark.parametrize("kind", ["exemplar", "object"])
def test_a_box_written_as_corner_pairs_is_refused_in_a_prompt_file(cli, clip, tmp_path, kind):
    """A prompt file's box written ``[[x0, y0], [x1, y1]]`` was read flat without a word (an
    exemplar's and an object's alike); now refused in one line naming the file and the box."""
    import json

    pairs = [[10, 10], [30, 20]]
    doc = (
        {"concepts": [{"text": "fish", "exemplars": [{"frame": 0, "box": pairs}]}]}
        if kind == "exemplar"
        else {"objects": [{"id": 1, "prompts": [{"frame": 0, "box": pairs}]}]}
    )
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps(doc))
    out = tmp_path / "m.zarr"
    model = SAM3[:5] if kind == "exemplar" else ["--random-weights", "--image-size", "64"]
    code, _, err = cli("segment", clip.video, "-o", out, *model, "--prompts", prompts)
    assert_one_line_error(
        code, err, str(prompts), "box must be [x0, y0, x1, y1], got [[10.0, 10.0], [30.0, 20.0]]"
    )
    assert not out.exists()


LINE_BREAK_OR_NUL = pytest.mark.parametrize(
    ("text", "said"),
    [("parrotfish\nwrasse", "a line break"), ("wrasse\x00", "a NUL character")],
    ids=["newline", "nul"],
)


@LINE_BREAK_OR_NUL
@pytest.mark.parametrize("where", ["--concepts", "prompt file", "python"])
def test_a_concept_with_a_line_break_or_nul_is_refused(
    cli, clip, tmp_path, no_sam3_model, where, text, said
):
    """A line break was folded into a space (``parrotfish wrasse``, one class) and a NUL kept
    in the class name, without a word; now one line naming the concept, before any model."""
    import json

    out = tmp_path / "m.zarr"
    culprit = f"concept {text!r} holds {said}"
    if where == "python":
        with pytest.raises(PromptError) as exc:
            ecoseg.segment(clip.video, out=out, concepts=[text], **SAM3_ARGS)
        assert_names(exc, f"concepts: concepts[0]: {culprit}")
        assert not out.exists()
        return
    if where == "--concepts":
        given, place = ["--concepts", text], "--concepts"
    else:
        prompts = tmp_path / "p.json"
        prompts.write_text(json.dumps({"concepts": [{"text": text}]}))
        given, place = ["--prompts", prompts], str(prompts)
    code, _, err = cli("segment", clip.video, "-o", out, *SAM3[:5], *given)
    assert_one_line_error(code, err, f"{place}: concepts[0]: {culprit}")
    assert not out.exists()


@LINE_BREAK_OR_NUL
def test_a_predictor_text_with_a_line_break_or_nul_is_refused(concept_predictor, text, said):
    """``ConceptPredictor.predict(text=...)`` tokenized it as given (a NUL as a byte token)."""
    with pytest.raises(PromptError) as exc:
        concept_predictor.predict(np.zeros((48, 64, 3), np.uint8), text=["fish", text])
    assert_names(exc, f"text[1] {text!r} holds {said}: a concept is one name on one line")

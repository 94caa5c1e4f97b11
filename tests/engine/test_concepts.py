"""Concept segmentation of still images into a mask store (``ecoseg.engine.concepts``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ecoseg.engine.concepts import instance_labels, list_images, segment_images
from ecoseg.errors import ConfigError, PromptError, StoreError, VideoError
from ecoseg.store import MaskStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sam3"))


def _write(folder: Path, name: str, image: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    Image.fromarray(image).save(path)
    return path


def test_images_are_listed_in_natural_order_and_bad_sources_say_why(tmp_path):
    for name in ("q10.png", "q2.png", "notes.txt", "q1.jpg"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["q1.jpg", "q2.png", "q10.png"]
    with pytest.raises(VideoError, match="no such file or directory"):
        list_images(tmp_path / "missing")
    with pytest.raises(VideoError, match="not an image"):
        list_images(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="no images"):
        list_images(tmp_path / "empty")


def test_a_folder_without_images_is_refused_in_the_folder_readers_words(tmp_path):
    """A photo survey said "no images (.jpeg, ...)" where the folder reader said "folder has no
    images (jpeg/...)": one refusal now (``ecoseg.io.folder.folder_images``)."""
    from ecoseg.io.video import open_video

    folder = tmp_path / "c.mp4"
    folder.mkdir()
    (folder / "video.mp4").write_bytes(b"")
    with pytest.raises(VideoError) as survey:
        list_images(folder)
    with pytest.raises(VideoError) as reader:
        open_video(folder)
    assert str(survey.value) == str(reader.value)
    assert "it holds a video" in str(survey.value)


def test_inputs_are_checked_before_any_model_is_built(tmp_path):
    src = tmp_path / "quadrats"
    _write(src, "a.png", np.zeros((20, 30, 3), np.uint8))
    _write(src, "b.png", np.zeros((21, 30, 3), np.uint8))
    with pytest.raises(VideoError, match="b.png: 30x21 px"):
        segment_images(src, ["coral"], out=tmp_path / "s.zarr", model=None)
    (src / "b.png").unlink()
    with pytest.raises(PromptError, match="concepts"):
        segment_images(src, [], out=tmp_path / "s.zarr", model=None)
    with pytest.raises(PromptError, match=r"^concepts: concepts\[1\] is blank \(only spaces\)"):
        segment_images(src, ["coral", "  "], out=tmp_path / "s.zarr", model=None)
    (tmp_path / "s.zarr").mkdir()  # never replaced: said at once, not 'pass overwrite'
    with pytest.raises(StoreError, match="exists and is not a zarr store"):
        segment_images(src, ["coral"], out=tmp_path / "s.zarr", model=None, overwrite=True)
    (tmp_path / "s.zarr").rmdir()
    MaskStore.create(tmp_path / "s.zarr", height=20, width=30).close()
    with pytest.raises(StoreError, match="already exists"):
        segment_images(src, ["coral"], out=tmp_path / "s.zarr", model=None)


def test_a_survey_refuses_concepts_alike_and_detect_every(tmp_path, capsys):
    """A photo survey took ``--concepts fish " Fish"`` as two species (and kept the spaces in
    the class), and ``--detect-every`` with ``--concepts`` on images was refused as needing
    ``--concepts``; both are now one line naming what is wrong, before any model."""
    from ecoseg.cli import main

    src = tmp_path / "quadrats"
    _write(src, "a.png", np.zeros((20, 30, 3), np.uint8))
    out = tmp_path / "s.zarr"
    with pytest.raises(PromptError, match="'fish' and 'Fish' differ only in case or spacing"):
        segment_images(src, ["fish", " Fish"], out=out, model=None)
    args = ["segment", str(src), "-o", str(out), "--concepts", "coral", "--detect-every", "2"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (
        "quadrats: a photo survey (concepts on images, each photograph detected on its own) "
        "takes no --detect-every 2; to track a folder of video frames instead, pass --as-video"
        in err
    )
    assert not out.exists()


def test_instance_labels_give_overlaps_to_the_better_score():
    masks = np.zeros((2, 4, 4), bool)
    masks[0, :3, :3] = True
    masks[1, 1:, 1:] = True
    labels = instance_labels(masks, np.array([0.4, 0.8]), [5, 6])
    assert labels[1, 1] == 6 and labels[0, 0] == 5 and labels[3, 3] == 6


@pytest.mark.slow
def test_photographs_become_a_store_with_one_object_per_instance(tmp_path):
    import backbone_oracle
    import det_oracle
    import torch
    from skimage import data

    import ecoseg
    from ecoseg.sam3 import ConceptPredictor
    from ecoseg.sam3.tokenizer import Tokenizer

    _, model = det_oracle.full_pair()
    tokenizer = Tokenizer.from_file(backbone_oracle.clip_vocabulary())
    photos = [data.coffee(), np.ascontiguousarray(data.coffee()[::-1, ::-1])]
    src = tmp_path / "survey"
    for i, photo in enumerate(photos):
        _write(src, f"quadrat_{i + 1}.png", photo)
    concepts = ["parrotfish", "sea urchin"]
    with torch.no_grad():  # a threshold that keeps some of the queries of random weights
        scores = np.concatenate(
            [
                r.scores
                for r in ConceptPredictor(model, tokenizer=tokenizer, score_threshold=0.0).predict(
                    photos[0], text=concepts
                )
            ]
        )
    threshold = float(np.quantile(scores, 0.9))
    out = segment_images(
        src,
        concepts,
        out=tmp_path / "survey.zarr",
        model=model,
        tokenizer=tokenizer,
        score_threshold=threshold,
        progress=False,
        device="cpu",
    )
    ds = ecoseg.open_masks(out)
    assert ds.sizes["t"] == 2 and ds["time"].values.tolist() == [0.0, 1.0]
    predictor = ConceptPredictor(model, tokenizer=tokenizer, score_threshold=threshold)
    next_id, classes, covered = 1, {}, 0
    for t, photo in enumerate(photos):
        found = predictor.predict(photo, text=concepts)
        found_classes, masks, best = [], [], []
        for instances in found:
            for k in range(len(instances)):
                found_classes.append((instances.concept, float(instances.scores[k])))
                masks.append(instances.masks[k])
                best.append(instances.scores[k])
        assert masks  # each photograph has instances
        # the instances left with pixels, numbered on in the order found; one wholly under
        # better-scoring ones is no object (it was one, with no pixel: info counted it)
        order = list(range(1, len(masks) + 1))
        expected = instance_labels(np.stack(masks), np.asarray(best), order)
        ids = np.zeros(len(masks) + 1, np.uint32)
        for k in np.unique(expected[expected > 0]):
            classes[next_id] = found_classes[k - 1]
            ids[k], next_id = next_id, next_id + 1
        covered += len(masks) - int((ids > 0).sum())
        np.testing.assert_array_equal(ds["labels"].values[t], ids[expected])
    tables = ecoseg.measure(out)
    assert set(tables["cover"]["class"]) <= set(concepts)
    # the class and its probability, the instance's detection score, as a concept track's
    # (the probability was NaN: docs/concepts.md, docs/tables.md)
    tracks = tables["tracks"].set_index("object_id")  # every object has pixels: one row each
    assert covered > 0  # the case is met: some instance was wholly painted over
    with MaskStore.open(out) as store:
        assert sorted(store.object_ids.tolist()) == sorted(tracks.index)
    assert sorted(tracks.index) == sorted(classes) == list(range(1, next_id))
    assert len(tracks) > 1
    for oid in tracks.index:
        concept, score = classes[oid]
        assert tracks.loc[oid, "class"] == concept
        assert tracks.loc[oid, "class_source"] == "concept"
        assert tracks.loc[oid, "class_probability"] == pytest.approx(score, abs=1e-6)


def test_cli_concepts_need_a_sam3_model_and_no_video_options(tmp_path, capsys):
    from ecoseg.cli import main

    image = _write(tmp_path, "q.png", np.zeros((20, 30, 3), np.uint8))
    out = str(tmp_path / "s.zarr")
    assert (
        main(["segment", str(image), "-o", out, "--concepts", "coral", "--model", "sam2.1-tiny"])
        == 2
    )
    from ecoseg._cli import cli_words
    from ecoseg.engine import check_concept_run

    with pytest.raises(ConfigError) as refused:  # the CLI refuses in the library's words
        check_concept_run("sam2.1-tiny")  # (its options named by the command's flags alone)
    said = capsys.readouterr().err
    assert said == f"ecoseg: error: {cli_words(str(refused.value))}\n"
    assert said.startswith("ecoseg: error: --concepts need a SAM 3 model (--model sam3)")
    assert main(["segment", str(image), "-o", out, "--concepts", "coral", "--auto"]) == 2
    # the words SAM 3 concepts refuse it in (check_concept_run), true of a survey too (it
    # said "concept tracking (SAM 3) takes no ...": a survey tracks nothing)
    assert capsys.readouterr().err == (
        "ecoseg: error: SAM 3 concepts take no --engine and no --auto\n"
    )
    # it said "--concepts does not combine with --fast", which concept tracking on a video does
    assert main(["segment", str(image), "-o", out, "--concepts", "coral", "--fast"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"ecoseg: error: {image}: a photo survey (concepts on images, each photograph detected on "
        "its own) takes no --fast; to track a folder of video frames instead, pass --as-video\n"
    )
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.slow
def test_cli_segments_a_photograph_with_concepts(tmp_path, monkeypatch, capsys):
    import shutil

    import backbone_oracle

    import ecoseg
    from ecoseg.cli import main

    cache = tmp_path / "weights"
    (cache / "sam3").mkdir(parents=True)  # the vocabulary, where `weights download` puts it
    shutil.copy(backbone_oracle.clip_vocabulary(), cache / "sam3")
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(cache))
    rng = np.random.default_rng(1)
    image = _write(tmp_path, "quadrat.jpg", rng.integers(0, 255, (50, 70, 3), dtype=np.uint8))
    out = tmp_path / "q.zarr"
    code = main(
        [
            "segment",
            str(image),
            "-o",
            str(out),
            "--concepts",
            "brain coral",
            "urchin",
            "--model",
            "sam3-reduced",
            "--random-weights",
            "--device",
            "cpu",
            "--score-threshold",
            "0",
        ]
    )
    assert code == 0, capsys.readouterr().err
    ds = ecoseg.open_masks(str(out))
    assert ds.sizes["t"] == 1 and ds["labels"].shape[1:] == (50, 70)
    assert int(ds["labels"].max()) > 0  # threshold 0 keeps every query
    assert set(ds["object_class"].values.tolist()) == {"brain coral", "urchin"}


def test_random_weights_need_no_vocabulary_and_a_failed_run_leaves_no_store(
    tmp_path, monkeypatch, capsys
):
    """Without a downloaded vocabulary, random weights use bytes (as concept tracking does);
    a run that fails before any image is written leaves nothing that blocks the re-run."""
    import ecoseg
    from ecoseg.cli import main
    from ecoseg.errors import CheckpointError
    from ecoseg.sam3 import ConceptPredictor

    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "empty-cache"))
    image = _write(tmp_path, "q.jpg", np.zeros((40, 60, 3), np.uint8))
    out = tmp_path / "q.zarr"
    args = ["segment", str(image), "-o", str(out), "--concepts", "urchin"]
    args += ["--model", "sam3-reduced", "--random-weights", "--device", "cpu"]

    def broken(self, *a, **k):  # e.g. a vocabulary that cannot encode the name
        raise CheckpointError("the network failed")

    with monkeypatch.context() as m:
        m.setattr(ConceptPredictor, "predict", broken)
        assert main(args) != 0
    assert "the network failed" in capsys.readouterr().err
    assert not out.exists()
    assert main(args) == 0, capsys.readouterr().err
    assert ecoseg.open_masks(str(out)).sizes["t"] == 1


def test_a_survey_that_fails_after_storing_images_leaves_no_store(tmp_path, monkeypatch):
    """A failed survey is no place to resume from (a cancelled one is): frames committed before
    the failure do not keep a half store (which would block the re-run with 'already
    exists')."""
    import ecoseg.engine.concepts as concepts

    folder = tmp_path / "photos"
    for name in ("a.png", "b.png"):
        _write(folder, name, np.zeros((40, 60, 3), np.uint8))

    def fails_after_one(store, results, **kwargs):
        store.append(np.zeros((1, 40, 60), np.uint32), 0.0)
        store.flush()  # one image committed
        assert store.n_frames == 1
        raise OSError("the camera card went away")

    monkeypatch.setattr(concepts, "write_results", fails_after_one)
    out = tmp_path / "survey.zarr"
    with pytest.raises(OSError, match="camera card"):
        segment_images(
            folder, ["urchin"], out=out, model="sam3-reduced", pretrained=False, device="cpu"
        )
    assert not out.exists()
    assert not (tmp_path / ".survey.zarr.lock").exists()


def test_an_instance_wholly_under_a_better_one_is_no_object(tmp_path, monkeypatch, capsys):
    """Of three instances of a photograph, one lies wholly under a better-scoring one: it
    was stored as an object with no pixel (``ecoseg info`` counted 3 objects, ``measure`` 2
    tracks); it is dropped as the video concept tracker drops a track left with no pixel,
    and the objects are numbered on without a gap, across photographs."""
    from types import SimpleNamespace

    import ecoseg.sam3

    masks = np.zeros((3, 6, 8), bool)
    masks[0, 0:4, 0:4] = True  # 0.9
    masks[1, 1:3, 1:3] = True  # 0.5: wholly under the first
    masks[2, 4:6, 5:8] = True  # 0.7

    class Found(SimpleNamespace):
        def __len__(self):
            return len(self.scores)

    class Predictor:
        original_size = (6, 8)

        def __init__(self, *args, **kwargs):
            pass

        def predict(self, image, text):
            return [Found(concept="urchin", masks=masks, scores=np.array([0.9, 0.5, 0.7]))]

    monkeypatch.setattr(ecoseg.sam3, "ConceptPredictor", Predictor)
    for name in ("q1.png", "q2.png"):
        _write(tmp_path / "photos", name, np.zeros((6, 8, 3), np.uint8))
    net = SimpleNamespace(image_size=8, config=SimpleNamespace(name="fake"))
    out = segment_images(
        tmp_path / "photos",
        ["urchin"],
        out=tmp_path / "s.zarr",
        model=net,
        tokenizer=object(),
        device="cpu",
        progress=False,
    )
    with MaskStore.open(out) as store:
        assert store.object_ids.tolist() == [1, 2, 3, 4]  # it was 1..6, 2 and 5 with no pixel
        labels = store.read_labels()
    assert np.unique(labels[0]).tolist() == [0, 1, 2] and np.unique(labels[1]).tolist() == [0, 3, 4]
    from ecoseg.cli import main
    from ecoseg.measure import measure

    assert main(["info", str(out)]) == 0  # info and measure count the same objects
    assert "objects      4: urchin 4" in capsys.readouterr().out
    assert measure(out)["tracks"]["object_id"].tolist() == [1, 2, 3, 4]


def test_a_survey_with_random_weights_is_the_same_each_run(tmp_path):
    """A photo survey with ``pretrained=False`` drew new random weights on each run; they come
    from the fixed seed a segment run uses, recorded in the model entry."""
    import torch

    folder = tmp_path / "photos"
    rng = np.random.default_rng(0)
    _write(folder, "a.png", rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    scores = []
    for k in range(2):
        torch.manual_seed(k)
        out = segment_images(
            folder,
            ["urchin"],
            out=tmp_path / f"{k}.zarr",
            model="sam3-reduced",
            pretrained=False,
            device="cpu",
            score_threshold=0.0,
            progress=False,
        )
        with MaskStore.open(out) as store:
            scores.append(np.asarray(store.read_scores()))
            assert store.provenance["model"]["seed"] == 0
    assert scores[0].size and np.array_equal(scores[0], scores[1])


@pytest.mark.parametrize(
    ("model", "info", "entry"),
    [  # as segment_images built the entry by hand before it used model_record
        ("sam3", None, {"variant": "sam3", "image_size": 1008, "pretrained": False, "seed": 0}),
        (
            "sam3",
            {"path": "w/sam3.pt", "sha256": "ab" * 32},
            {
                "variant": "sam3",
                "image_size": 1008,
                "pretrained": True,
                "checkpoint": {"path": "w/sam3.pt", "sha256": "ab" * 32},
            },
        ),
        (object(), None, {"variant": "custom", "image_size": 1008, "pretrained": False}),
        (
            object(),
            {"path": "my.pt", "sha256": "cd" * 32},
            {
                "variant": "custom",
                "image_size": 1008,
                "pretrained": True,
                "checkpoint": {"path": "my.pt", "sha256": "cd" * 32},
            },
        ),
    ],
)
def test_a_survey_records_its_model_entry_as_before(tmp_path, monkeypatch, model, info, entry):
    """The survey's model entry comes from the shared ``model_record`` (it was built by hand)
    and is the entry it always was: random weights of a preset their seed, a network passed
    in none (the caller's), the weights the network holds (a checkpoint given or the cached
    download) their file and sha256. No network is built: the predictor finds nothing."""
    from types import SimpleNamespace

    from ecoseg.engine import concepts

    net = SimpleNamespace(image_size=1008, checkpoint_info=info)
    predictor = SimpleNamespace(original_size=(4, 6), predict=lambda image, text: [])
    name = model if isinstance(model, str) else "custom"
    monkeypatch.setattr(concepts, "survey_predictor", lambda *a, **k: (predictor, net, name, "cpu"))
    _write(tmp_path / "photos", "a.png", np.zeros((4, 6, 3), np.uint8))
    out = segment_images(
        tmp_path / "photos", ["urchin"], out=tmp_path / "s.zarr", model=model, progress=False
    )
    with MaskStore.open(out) as store:
        assert store.provenance["model"] == entry

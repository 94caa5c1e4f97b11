"""Tests of ecoseg/provenance.py: typed records that round-trip the stored JSON exactly."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import ecoseg
from ecoseg.errors import StoreError
from ecoseg.provenance import (
    CLASS_SOURCES,
    ModelInfo,
    ObjectRecord,
    Provenance,
    VideoSource,
    created,
    survey_video,
)
from ecoseg.store import MaskStore

OLD = Path(__file__).resolve().parent / "data" / "store_v0"


def raw_meta(path: Path) -> dict:
    """A local store's ``ecoseg`` attributes, read from its zarr.json without ecoseg."""
    return json.loads((Path(path) / "zarr.json").read_text())["attributes"]["ecoseg"]


def assert_round_trips(meta: dict) -> None:
    """Provenance and every object entry come back as the same JSON text (same key order)."""
    prov = Provenance.from_dict(meta["provenance"])
    assert json.dumps(prov.to_dict()) == json.dumps(meta["provenance"])
    for entry in meta["objects"]:
        assert json.dumps(ObjectRecord.from_dict(entry).to_dict()) == json.dumps(entry)


@pytest.mark.parametrize("name", ["truth", "classical"])
def test_old_stores_round_trip_byte_for_byte(name):
    assert_round_trips(raw_meta(OLD / f"{name}.zarr"))


def test_old_store_fields_are_typed():
    prov = Provenance.from_dict(raw_meta(OLD / "classical.zarr")["provenance"])
    assert prov.engine == "classical"
    assert isinstance(prov.video, VideoSource)
    assert prov.video.frame_size == (96, 64) and prov.video.frames == 12
    assert prov.video.sha256.startswith("e579c02d")
    assert prov.parameters["min_hits"] == 3 and prov.model is None
    truth = Provenance.from_dict(raw_meta(OLD / "truth.zarr")["provenance"])
    assert truth.video.size == (96, 64) and truth.video.codec == "h264"
    assert dict(truth.extra) == {"generator": "ecoseg.synth", "generator_version": 1, "seed": 3}
    records = [ObjectRecord.from_dict(o) for o in raw_meta(OLD / "truth.zarr")["objects"]]
    assert [(r.id, r.class_name, r.source) for r in records][:2] == [
        (1, "surgeonfish", "truth"),
        (2, "wrasse", "truth"),
    ]
    assert all(r.class_source == "unknown" and not r.reviewed for r in records)
    assert all(r.class_probability is None for r in records)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip") / "c", frames=8, size=(64, 48), seed=5)


def test_stores_the_engines_write_round_trip(clip, tmp_path):
    assert_round_trips(raw_meta(clip.truth))
    classical = ecoseg.segment(clip.video, out=tmp_path / "c.zarr", progress=False)
    assert_round_trips(raw_meta(classical))
    prompts = {
        "objects": [{"id": 2, "class": "wrasse", "prompts": [{"frame": 0, "points": [[20, 20]]}]}]
    }
    sam2 = ecoseg.segment(
        clip.video,
        prompts,
        out=tmp_path / "s.zarr",
        pretrained=False,
        image_size=64,
        device="cpu",
        progress=False,
    )
    meta = raw_meta(sam2)
    assert_round_trips(meta)
    prov = Provenance.from_dict(meta["provenance"])
    assert prov.engine == "sam2" and prov.model.variant == "sam2.1-tiny"
    assert prov.model.image_size == 64 and prov.model.checkpoint_sha256 is None
    assert prov.prompts["objects"][0]["class"] == "wrasse"
    assert ObjectRecord.from_dict(meta["objects"][0]).class_name == "wrasse"


def test_unknown_keys_are_kept_in_place():
    data = {
        "from_the_future": {"x": [1, 2]},
        "engine": "sam3",
        "video": {"codec": "hevc", "rotation": 90, "path": "v.mp4"},
        "model": {"quantized": True, "variant": "sam3"},
        "calibration": None,
        "notes": "kept",
    }
    prov = Provenance.from_dict(data)
    assert prov.extra == {"from_the_future": {"x": [1, 2]}, "notes": "kept"}
    assert prov.video.extra == {"rotation": 90} and prov.model.extra == {"quantized": True}
    assert json.dumps(prov.to_dict()) == json.dumps(data)  # also the explicit null
    entry = {"id": 7, "class": "crab", "source": "discovered", "area_hint": 12, "note": None}
    record = ObjectRecord.from_dict(entry)
    assert record.extra == {"area_hint": 12, "note": None}
    assert json.dumps(record.to_dict()) == json.dumps(entry)


def test_a_misshapen_known_key_is_kept_verbatim():
    data = {"video": "just a path.mp4", "parameters": [1, 2]}
    prov = Provenance.from_dict(data)
    assert prov.video is None and prov.extra == data
    assert json.dumps(prov.to_dict()) == json.dumps(data)


@pytest.mark.parametrize("rate", ["30", 0, -25, True, None, [30]])
def test_a_frame_rate_that_is_not_a_positive_number_is_kept_verbatim(rate):
    """A hand-edited ``fps`` reads as unknown (readers used ``float(fps)``), written back as
    it was."""
    data = {"video": {"path": "v.mp4", "fps": rate}}
    prov = Provenance.from_dict(data)
    assert prov.video.fps is None
    assert json.dumps(prov.to_dict()) == json.dumps(data)


def test_new_object_fields():
    base = ObjectRecord(5, "parrotfish", "concept")
    assert base.to_dict() == {"id": 5, "class": "parrotfish", "source": "concept"}
    classified = dataclasses.replace(base, class_source="classified", class_probability=0.75)
    assert classified.to_dict() == {
        "id": 5,
        "class": "parrotfish",
        "source": "concept",
        "class_source": "classified",
        "class_probability": 0.75,
    }
    reviewed = dataclasses.replace(base, class_source="reviewed", reviewed=True)
    assert reviewed.to_dict()["reviewed"] is True
    for record in (base, classified, reviewed):
        assert ObjectRecord.from_dict(record.to_dict()) == record
    # a new field written with its default value stays in the JSON (bytes kept)
    entry = {"id": 1, "class": "a", "source": "prompt", "reviewed": False}
    assert json.dumps(ObjectRecord.from_dict(entry).to_dict()) == json.dumps(entry)


def test_object_defaults_and_normalisation():
    record = ObjectRecord.from_dict({"id": 3, "class": None})
    assert (record.class_name, record.source, record.class_source) == ("unknown",) * 3
    assert record.to_dict() == {"id": 3, "class": "unknown", "source": "unknown"}
    assert "unknown" in CLASS_SOURCES and "reviewed" in CLASS_SOURCES


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"class": "fish"}, "no id"),
        ({"id": "1"}, "must be an integer"),
        ({"id": True}, "must be an integer"),
        ({"id": 1, "class_source": "guess"}, "class_source 'guess'"),
        ({"id": 1, "class_probability": 1.5}, "0..1"),
        ({"id": 1, "class_probability": float("nan")}, "0..1"),
        ({"id": 1, "class_probability": "high"}, "0..1"),
        ({"id": 1, "reviewed": "yes"}, "true or false"),
        (["id", 1], "JSON object"),
    ],
)
def test_bad_object_entries(entry, message):
    with pytest.raises(StoreError, match=message):
        ObjectRecord.from_dict(entry)


def test_provenance_updated_keeps_order():
    prov = Provenance.from_dict({"video": {"path": "a.mp4"}, "engine": "classical"})
    new = prov.updated(video={"path": "b.mp4"}, auto=True)
    assert list(new.to_dict()) == ["video", "engine", "auto"]
    assert new.video.path == "b.mp4" and new.get("auto") is True
    assert Provenance.from_dict(None) == Provenance() and Provenance().to_dict() == {}
    with pytest.raises(StoreError, match="provenance must be a JSON object"):
        Provenance.from_dict(["x"])


def test_model_checkpoint():
    info = ModelInfo.from_dict({"variant": "v", "checkpoint": {"path": "w.pt", "sha256": "ab"}})
    assert (info.checkpoint_path, info.checkpoint_sha256) == ("w.pt", "ab")
    assert info.to_dict() == {"variant": "v", "checkpoint": {"path": "w.pt", "sha256": "ab"}}


def test_store_rewritten_through_records_keeps_its_bytes(tmp_path):
    import shutil

    path = tmp_path / "old.zarr"
    shutil.copytree(OLD / "truth.zarr", path)
    before = (path / "zarr.json").read_bytes()
    store = MaskStore.open(path, mode="a")
    store.calibration = store.calibration  # rewrites the attributes through the records
    store.close()
    assert (path / "zarr.json").read_bytes() == before


def test_camera_motion_record_round_trips_and_old_records_have_none():
    from ecoseg.provenance import CameraMotion

    raw = {
        "engine": "classical",
        "camera_motion": {
            "camera_speed": 0.0,
            "animal_speed": None,
            "limit": 6.4,
            "too_fast": False,
            "frames": 3,
            "frame_width": 640,
            "note": 1,
        },
    }
    p = Provenance.from_dict(raw)
    assert isinstance(p.camera_motion, CameraMotion) and p.camera_motion.extra == {"note": 1}
    assert p.to_dict() == raw and list(p.to_dict()["camera_motion"]) == list(raw["camera_motion"])
    assert Provenance.from_dict({"engine": "sam2"}).camera_motion is None
    assert "camera_motion" not in Provenance.from_dict({"engine": "sam2"}).to_dict()
    kept = Provenance.from_dict({"camera_motion": "fast"})  # not the expected shape
    assert kept.camera_motion is None and kept.to_dict() == {"camera_motion": "fast"}


def test_created_is_utc_to_the_second_or_source_date_epoch(monkeypatch):
    from datetime import UTC, datetime

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    stamp = datetime.fromisoformat(created())
    assert stamp.tzinfo == UTC and abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert created() == "2023-11-14T22:13:20+00:00"


def test_long_prompts_are_summarized_in_the_record_s_repr():
    """``store.provenance_record`` of a store tracked from an imported truth printed every box
    of every frame (megabytes for an hour of video); short prompts are shown as they are."""
    box = {"frame": 0, "box": [0.0, 0.0, 5.0, 5.0]}
    objects = [{"id": i, "prompts": [{**box, "frame": f} for f in range(50)]} for i in (1, 2)]
    p = Provenance.from_dict({"engine": "sam2", "prompts": {"objects": objects}, "seed": 3})
    text = repr(p)
    assert "prompts=<2 objects, 100 prompts, 0 concepts>, calibration=None" in text
    assert text.startswith("Provenance(ecoseg_version=None, created=None, engine='sam2', ")
    assert text.endswith("extra={'seed': 3})") and len(text) < 400
    short = {"objects": [{"id": 1, "prompts": [box]}]}
    assert f"prompts={short!r}, " in repr(Provenance.from_dict({"prompts": short}))


def test_class_name_helpers_keep_their_old_import_path():
    """The class-name spelling moved to ecoseg._class_names; ``from ecoseg.provenance import
    clean_class_name`` (and the others) still gives the same functions."""
    import ecoseg._class_names as class_names
    import ecoseg.provenance as provenance

    moved = ["case_clashes", "class_key", "clean_class_name", "new_spelling", "one_spelling"]
    for name in moved:  # the message words (set_class_words, track_list) never lived there
        assert getattr(provenance, name) is getattr(class_names, name)
        assert name in provenance.__all__


def test_annotated_frames_keep_their_old_import_path():
    """AnnotatedFrames and describe_frames moved to ecoseg._annotated_frames (the JSON plumbing
    to ecoseg._record_json); ``from ecoseg.provenance import ...`` still gives them."""
    import ecoseg._annotated_frames as annotated
    import ecoseg.provenance as provenance

    for name in ("AnnotatedFrames", "describe_frames"):
        assert getattr(provenance, name) is getattr(annotated, name)
        assert name in provenance.__all__
    record = provenance.Provenance.from_dict({"annotated_frames": {"start": 2, "step": 3}})
    assert isinstance(record.annotated_frames, annotated.AnnotatedFrames)


@pytest.mark.parametrize(
    "video, photos",
    [
        ({"path": "quadrats", "images": ["a.jpg", "b.jpg"]}, ("a.jpg", "b.jpg")),
        ({"path": "reef.mp4", "fps": 30.0}, None),
        ({"path": "quadrats", "images": "a.jpg"}, None),  # not a list: not a survey's record
        ([1, 2], None),  # a misshapen video entry, kept verbatim
        (None, None),  # no video recorded
    ],
)
def test_is_a_photo_survey_is_asked_of_the_provenance_record(video, photos):
    """``video is not None and video.photos is not None`` was spelled out at each place that
    asked (measure, info, report, napari); the record answers it, as each place did."""
    prov = Provenance.from_dict({} if video is None else {"video": video})
    assert prov.photos == photos
    assert prov.is_survey is (photos is not None)


def test_a_survey_store_made_as_segment_makes_it_is_a_survey(tmp_path):
    video = survey_video({"path": "quadrats", "image_folder": True}, ["a.jpg"])
    with MaskStore.create(tmp_path / "s.zarr", height=2, width=2, provenance={"video": video}):
        pass
    assert MaskStore.open(tmp_path / "s.zarr").provenance_record.is_survey

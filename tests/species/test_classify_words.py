"""What classify says when a model will name tracks less well than its probabilities say, and
when a store holds nothing to name."""

import warnings

import numpy as np
import pytest
from species_helpers import small_store

from ecoseg.cli import main
from ecoseg.errors import ConfigError, VideoError
from ecoseg.species import classify, edit_log
from ecoseg.species.classify import train_model
from ecoseg.species.edits import Edit
from ecoseg.species.model import ModelError, SpeciesModelWarning
from ecoseg.species.review import apply_edits
from ecoseg.store import MaskStore


def named(path, names: dict[int, str]):
    apply_edits(path, [Edit("set_class", (i,), cls=c) for i, c in names.items()])


def test_training_on_one_track_of_a_species_warns(tmp_path):
    path = tmp_path / "m.zarr"
    img = small_store(path)
    named(path, {1: "red", 2: "blue"})
    with pytest.warns(
        SpeciesModelWarning, match=r"fewer than 3 reviewed tracks \(blue 1, red 1\)"
    ) as w:
        train_model(path, videos=[img])
    # the way to review more, for a shell and for Python alike (a warning does not know who
    # called; it named the CLI alone)
    assert str(w.pop(SpeciesModelWarning).message).endswith(
        "review more tracks of each: ecoseg edit STORE --set-class ID=NAME (in Python "
        "ecoseg.Review('STORE').set_class(ID, 'NAME'))"
    )


def test_three_tracks_of_each_species_train_without_a_word(tmp_path):
    stores = [tmp_path / f"m{k}.zarr" for k in range(3)]
    imgs = [small_store(p) for p in stores]
    for p in stores:
        named(p, {1: "red", 2: "blue"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpeciesModelWarning)
        model = train_model(stores, videos=imgs)
    assert model.classes == ("blue", "red")


def test_a_reviewed_species_the_model_does_not_know_is_named(tmp_path):
    train = tmp_path / "train.zarr"
    train_img = small_store(train)
    named(train, {1: "red", 2: "blue"})
    with pytest.warns(SpeciesModelWarning):  # one track each
        model = train_model(train, videos=[train_img])
    other = tmp_path / "other.zarr"
    img = small_store(other)
    named(other, {4: "grouper"})
    with pytest.warns(SpeciesModelWarning, match=r"other\.zarr: its reviewed tracks name "
                      r"'grouper' \(track 4\), which the model does not know") as w:  # fmt: skip
        out = classify(other, model=model, videos=[img])
    assert str(w.pop(SpeciesModelWarning).message).endswith(
        f"train on this store too: --train {other} (in Python ecoseg.classify(..., "
        f"train=[..., {str(other)!r}]))"
    )
    # a person's name is kept, whatever the model thinks
    assert out.set_index("object_id").loc[4, ["class", "class_source"]].tolist() == [
        "grouper",
        "reviewed",
    ]


def test_classify_says_when_a_store_has_no_tracks(tmp_path, capsys):
    model_store = tmp_path / "train.zarr"
    img = small_store(model_store)
    named(model_store, {1: "red", 2: "blue", 3: "red", 4: "blue"})
    path = tmp_path / "m.zarr"
    model_file = tmp_path / "species.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpeciesModelWarning)
        train_model(model_store, videos=[img]).save(model_file)
    with MaskStore.create(path, height=8, width=40, objects=[]) as s:
        s.append(np.zeros((3, 8, 40), np.uint32), [0.0, 0.1, 0.2])
        s.mark_complete()
    assert main(["classify", str(path), "--model", str(model_file), "--queue", "0"]) == 0
    out = capsys.readouterr().out
    assert f"{path}: no tracks, nothing to classify" in out
    assert edit_log(path) == []  # nothing changed: no edit to undo


def saved_model(tmp_path, **changes):
    """A model file of two species, with ``changes`` to its JSON (sha256 made to match)."""
    import json

    from ecoseg.species.model import payload_sha256

    path = tmp_path / "train.zarr"
    img = small_store(path)
    named(path, {1: "red", 2: "blue", 3: "red", 4: "blue"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpeciesModelWarning)
        data = train_model(path, videos=[img]).to_dict()
    data.update(changes)
    data["sha256"] = payload_sha256(data)
    out = tmp_path / "species.json"
    out.write_text(json.dumps(data))
    return out


def test_a_model_of_other_features_is_refused_before_any_features_are_read(
    tmp_path, monkeypatch, capsys
):
    import sys

    classify_module = sys.modules["ecoseg.species.classify"]  # (the name is the function)
    model = saved_model(tmp_path, feature_version=99)
    store = tmp_path / "m.zarr"
    small_store(store)

    def no_features(*args, **kwargs):
        raise AssertionError("track features were computed for a model that cannot use them")

    monkeypatch.setattr(classify_module, "track_features", no_features)
    assert main(["classify", str(store), "--model", str(model)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"ecoseg: error: {model}: trained on track features of version 99, this ecoseg "
        "computes version 1; re-train it with this ecoseg"
    )
    assert edit_log(store) == []


def test_model_files_from_a_newer_ecoseg_or_a_folder_say_so(tmp_path, capsys):
    model = saved_model(tmp_path, version=7)
    store = tmp_path / "train.zarr"
    assert main(["classify", str(store), "--model", str(model)]) == 2
    assert "made by a newer ecoseg: upgrade ecoseg or re-train" in capsys.readouterr().err
    assert main(["classify", str(store), "--model", str(store)]) == 2  # a store for a model
    err = capsys.readouterr().err.strip()
    assert err == f"ecoseg: error: {store}: is a folder, not a species model file (JSON)"
    missing = tmp_path / "nowhere.json"  # it said "no such species model file"
    assert main(["classify", str(store), "--model", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"ecoseg: error: {missing}: species model file not found"


def test_training_on_names_differing_only_in_case_is_refused(tmp_path, capsys):
    """It trained 'Red' and 'red' as two species, with a warning."""
    stores = [tmp_path / f"m{k}.zarr" for k in range(2)]
    imgs = [small_store(p) for p in stores]
    named(stores[0], {1: "red", 2: "blue", 3: "red", 4: "blue"})
    named(stores[1], {1: "Red", 2: "blue", 3: "Red", 4: "blue"})  # another reviewer's spelling
    with pytest.raises(ConfigError) as caught:
        train_model(stores, videos=imgs)
    assert str(caught.value) == (
        f"{stores[1]}: reviewed tracks 1, 3 named 'Red', which differs only in case from 'red' "
        f"(reviewed in {stores[0]}): the model would learn one species as two; use 'red': "
        f"ecoseg edit {stores[1]} --set-class 1=red --set-class 3=red (in Python for t in "
        f"(1, 3): ecoseg.Review({str(stores[1])!r}).set_class(t, 'red'))"
    )
    respell = str(caught.value).split(": ecoseg edit ")[1].split(" (in Python")[0].split()
    assert main(["edit", *respell]) == 0  # the command it names is the way
    assert train_model(stores, videos=imgs).classes == ("blue", "red")


def test_a_video_not_found_is_named_with_the_option_that_gives_it(tmp_path, capsys):
    """A store moved away from its video said "pass video=... / --video" also for a training
    store, where --video gives the videos of the stores to classify (--train-video trains)."""
    train = tmp_path / "train.zarr"
    small_store(train)
    named(train, {1: "red", 2: "blue", 3: "red", 4: "blue"})
    path = tmp_path / "moved.zarr"
    small_store(path)
    with MaskStore.open(path, mode="a") as s:
        s.set_provenance(video={"path": "dive/video.mp4"})
    code = main(["classify", str(path), "--train", str(train)])
    err = capsys.readouterr().err
    assert code == 2
    # the option typed (it said "train_videos=... / --train-video", a Python keyword too)
    assert err.strip().endswith(
        f"{train}: the store records no video; give it with --train-video PATH"
    )
    code = main(["classify", str(path), "--model", str(saved_model(tmp_path / "m"))])
    err = capsys.readouterr().err
    assert code == 2
    # it said "at that path or beside the store", but find_video also looks for the video of
    # a folder moved whole (dive/video.mp4 under each folder above the store)
    assert err == (
        f"ecoseg: error: {path}: the video it was made from (dive/video.mp4) is not found: not "
        f"at that path from the current folder, nor at {tmp_path / 'dive' / 'video.mp4'}, nor "
        f"at {tmp_path / 'video.mp4'}, nor in a folder moved whole with the store; give it with "
        "--video PATH\n"
    )
    # from Python: the keyword of the function called
    with pytest.raises(
        VideoError, match=r"give it with train_videos=\.\.\. \(--train-video PATH\)$"
    ):
        classify(path, train=train)
    with pytest.raises(VideoError, match=r"no video; give it with videos=\.\.\. \(--video PATH\)$"):
        train_model(train)


def test_a_store_refused_after_training_leaves_no_model_file(tmp_path):
    """The model was saved before the stores to classify were read: a store whose video was
    not found left species.json behind, and the corrected command was refused with
    "species.json: already exists"."""

    train = tmp_path / "train.zarr"
    img = small_store(train)
    named(train, {1: "red", 2: "blue", 3: "red", 4: "blue"})
    path = tmp_path / "m.zarr"
    small_store(path)
    out = tmp_path / "species.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpeciesModelWarning)
        with pytest.raises(VideoError, match="give it with videos="):
            classify(path, train=train, train_videos=[img], save_model=out)
        assert not out.exists()
        classify(path, train=train, train_videos=[img], videos=[img], save_model=out)
    assert out.exists()


def test_repeated_train_and_video_options_add_up(monkeypatch):
    """``--train a.zarr --train b.zarr`` trained on b.zarr alone, without a word (argparse
    kept the last), as did a repeated ``--video`` and ``--train-video``."""
    import ecoseg.species

    seen = {}

    def fake_classify(stores, **kwargs):
        seen.update(kwargs, stores=stores)
        raise ConfigError("stop here")

    monkeypatch.setattr(ecoseg.species, "classify", fake_classify)
    args = ["classify", "s1.zarr", "s2.zarr", "--train", "a.zarr", "--train", "b.zarr", "c.zarr"]
    args += ["--video", "s1.mp4", "--video", "s2.mp4", "--train-video", "a.mp4"]
    args += ["--train-video", "b.mp4", "c.mp4"]
    assert main(args) != 0
    assert seen["stores"] == ["s1.zarr", "s2.zarr"]
    assert seen["train"] == ["a.zarr", "b.zarr", "c.zarr"]
    assert seen["videos"] == ["s1.mp4", "s2.mp4"]
    assert seen["train_videos"] == ["a.mp4", "b.mp4", "c.mp4"]


def test_model_sha256_refuses_a_substitute_model_file(tmp_path, monkeypatch, capsys):
    """``--model FILE`` took any species model: a reproduce step whose file had been swapped
    for another model classified with it, unnoticed. ``--model-sha256`` names the model (the
    SHA-256 a classification's record names); another one is refused in one line naming the
    file, the SHA-256 asked for and the file's, before any store is read."""
    import json
    import sys

    model = saved_model(tmp_path)
    sha = json.loads(model.read_text())["sha256"]
    store = tmp_path / "m.zarr"
    img = small_store(store)
    other = "0" * 64

    def no_features(*args, **kwargs):
        raise AssertionError("track features were computed for a model that was refused")

    with monkeypatch.context() as mp:
        mp.setattr(sys.modules["ecoseg.species.classify"], "track_features", no_features)
        assert main(["classify", str(store), "--model", str(model), "--model-sha256", other]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (
            f"ecoseg: error: {model}: the species model of SHA-256 {sha}, expected {other} "
            "(another model than the one asked for; nothing was classified)"
        )
        assert main(["classify", str(store), "--model", str(model), "--model-sha256", "ab12"]) == 2
        err = capsys.readouterr().err.strip()
        assert err == "ecoseg: error: --model-sha256 must be 64 hexadecimal digits, got 'ab12'"
    assert edit_log(store) == []
    with pytest.raises(ModelError, match=f"{other}"):  # from Python alike
        classify(store, model=model, videos=[img], model_sha256=other)
    out = classify(store, model=model, videos=[img], model_sha256=sha.upper())  # its own
    assert out.attrs["model_sha256"] == sha and len(edit_log(store)) == 1


def test_a_calibration_that_is_not_one_is_refused_in_one_line(tmp_path, capsys):
    model = saved_model(tmp_path)
    store = tmp_path / "m.zarr"
    small_store(store)
    assert main(["classify", str(store), "--model", str(model), "--calibration", "reef"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecoseg: error: ") and "'reef'" in err and "\n" not in err
    assert edit_log(store) == [] and MaskStore.open(store).calibration in (None, {})


def test_a_scale_bar_outside_the_frame_is_refused_before_anything_is_written(tmp_path, capsys):
    """``classify --calibration`` with a scale bar longer than the store's 40x8 frame measured
    the tracks with it and saved it into the store, where ``ecoseg measure`` refuses it; now
    it is refused alike, in one line, before anything is trained or written."""
    from ecoseg.errors import CalibrationError

    model = saved_model(tmp_path)
    store = tmp_path / "m.zarr"
    small_store(store)
    spec = "scale-bar:0,2,500,2,50"
    args = ["classify", str(store), "--model", str(model), "--calibration", spec]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"ecoseg: error: {store}: calibration scale-bar end (500, 2) is outside the 40x8 px "
        "frame, whose pixels' outer edges run from -0.5 to 39.5 in x and 7.5 in y (the bar is "
        "500 px long; give its ends in the video's pixels)"
    )
    with pytest.raises(CalibrationError, match=r"\(500, 2\) is outside the 40x8"):
        classify(store, model=model, videos=[np.zeros((3, 8, 40, 3), np.uint8)], calibration=spec)
    assert edit_log(store) == [] and MaskStore.open(store).calibration in (None, {})


def test_classify_measures_with_the_calibration_given_and_records_it(tmp_path):
    """``calibration=`` measures the tracks with it, saves it into the store and records it
    in the classification (``ecoseg classify --calibration``, which a report's steps give)."""
    train = tmp_path / "train.zarr"
    img = small_store(train)
    named(train, {1: "red", 2: "blue", 3: "red", 4: "blue"})
    from ecoseg.measure.calibration import parse_calibration
    from ecoseg.measure.regions import save_calibration

    save_calibration(train, parse_calibration("0.5"))  # a model of sizes in mm
    path = tmp_path / "m.zarr"
    small_store(path)  # uncalibrated: the model would refuse it without the calibration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpeciesModelWarning)
        classify(path, train=train, train_videos=[img], videos=[img], calibration="0.5")
    saved = MaskStore.open(path).calibration
    assert saved["mm_per_px"] == 0.5
    assert edit_log(path)[-1]["classification"]["calibration"] == saved


def test_a_calibration_classify_saves_over_another_is_said_as_measure_says_it(tmp_path):
    """``classify --calibration`` saved over the store's calibration without a word, where
    ``ecoseg measure`` warns naming both (:func:`~ecoseg.measure.calibration.warn_if_replaced`).
    The same one again is not said. The stored mm/px typed back replaces a scale bar's (said:
    the sizes are unchanged) rather than keeping it as measure does: a report's step gives the
    calibration a classification recorded, which must be recorded again as it was."""
    from ecoseg.errors import CalibrationReplacedWarning
    from ecoseg.measure.calibration import parse_calibration
    from ecoseg.measure.regions import save_calibration

    train = tmp_path / "train.zarr"
    img = small_store(train)
    named(train, {1: "red", 2: "blue", 3: "red", 4: "blue"})
    save_calibration(train, parse_calibration("0.5"))  # a model of sizes in mm
    path = tmp_path / "m.zarr"
    small_store(path)
    save_calibration(path, parse_calibration("scale-bar:0,0,0,10,5"))  # 0.5 mm/px

    def run(spec):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            classify(path, train=train, train_videos=[img], videos=[img], calibration=spec)
        said = [str(w.message) for w in caught if w.category is CalibrationReplacedWarning]
        record = edit_log(path)[-1]["classification"]["calibration"] if edit_log(path) else None
        return said, record

    said, record = run("0.5")
    assert said == [
        f"{path}: the calibration 0.5 mm/px (scale) replaces the stored 0.5 mm/px (scale bar); "
        "the same mm per pixel: sizes are unchanged"
    ]
    assert record == MaskStore.open(path).calibration == {"mm_per_px": 0.5, "method": "scale"}
    assert run("0.5 mm/px")[0] == []  # the same one again
    assert run("0.25")[0] == [
        f"{path}: the calibration 0.25 mm/px (scale) replaces the stored 0.5 mm/px (scale); "
        "sizes are now measured with the new one"
    ]

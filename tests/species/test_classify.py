import json

import numpy as np
import pytest

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.species import SpeciesModel, apply_edits, classify, review_queue
from ecoseg.species.edits import Edit
from ecoseg.species.features import (
    FEATURE_NAMES,
    FEATURE_VERSION,
    TrackFeatures,
    track_features,
)
from ecoseg.store import MaskStore

SIZE = (256, 144)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    return [ecoseg.synth(root / f"s{s}", seed=s, frames=24, size=SIZE) for s in range(5)]


def unknown_copy(truth, out, prompted=()):
    """The truth store as a finished tracker run leaves it: same masks, every class unknown
    (but the ``prompted`` ids, named by their prompt)."""
    t = MaskStore.open(truth)
    objects = [
        {"id": o["id"], "class": o["class"], "source": "prompt"}
        if o["id"] in prompted
        else {"id": o["id"], "class": "unknown", "source": "tracker"}
        for o in t.objects
    ]
    with MaskStore.create(
        out,
        height=t.height,
        width=t.width,
        chunk_frames=t.chunk_frames,
        objects=objects,
        provenance=t.provenance,
        calibration=t.calibration,
    ) as s:
        s.append(t.read_labels(), t.read_time())
        s.mark_complete()  # else classify warns that its run did not finish
    return out


def accuracy(model, feats):
    names, _ = model.predict(feats.values)
    return float(np.mean([a == b for a, b in zip(names, feats.classes)]))


def test_the_classifier_learns_species_from_track_features(clips):
    feats = [track_features(c.truth) for c in clips]
    assert feats[0].names == FEATURE_NAMES
    X = np.concatenate([f.values for f in feats[:3]])
    y = [c for f in feats[:3] for c in f.classes]
    assert len(set(y)) == 6  # four fish and two invertebrates
    model = SpeciesModel.fit(X, y, feature_names=FEATURE_NAMES)
    learned = np.mean([accuracy(model, f) for f in feats[3:]])
    shuffled_y = list(np.random.default_rng(0).permutation(y))
    shuffled = SpeciesModel.fit(X, shuffled_y, feature_names=FEATURE_NAMES)
    chance = np.mean([accuracy(shuffled, f) for f in feats[3:]])
    assert learned >= 0.75, (learned, chance)  # new animals on other seeds
    assert chance < learned - 0.3


def test_colour_features_are_cielab_inside_the_mask():
    from ecoseg.species.features import mask_colour_stats

    img = np.zeros((20, 20, 3), np.uint8)
    img[...] = (0, 0, 255)  # blue background bleeds nowhere
    img[5:15, 5:15] = (255, 0, 0)
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    s = dict(zip(("L", "a", "b"), mask_colour_stats(img, mask)[:3]))
    assert s["L"] == pytest.approx(53.24, abs=0.1) and s["a"] == pytest.approx(80.09, abs=0.1)


def test_classify_writes_classes_probabilities_and_a_review_queue(clips, tmp_path):
    store = unknown_copy(clips[0].truth, tmp_path / "a.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[0].truth).objects}
    other = unknown_copy(clips[1].truth, tmp_path / "b.zarr")
    video_a, video_b = clips[0].video, clips[1].video
    truth_b = {o["id"]: o["class"] for o in MaskStore.open(clips[1].truth).objects}
    apply_edits(store, [Edit("set_class", (i,), cls=c) for i, c in truth.items()])
    apply_edits(other, [Edit("set_class", (1,), cls=truth_b[1])])
    out = classify(
        other,
        train=[store],
        videos=[video_b],
        train_videos=[video_a],
        save_model=tmp_path / "species.json",
        threshold=0.0,
    )
    objs = {o["id"]: o for o in MaskStore.open(other).objects}
    assert objs[1]["class_source"] == "reviewed"  # a person's class is kept
    named = [o for i, o in objs.items() if i != 1 and "class_probability" in o]
    assert named and all(o["class_source"] == "classified" for o in named)
    assert all(0.0 < o["class_probability"] <= 1.0 for o in named)
    assert (
        out.attrs["model_sha256"] == json.loads((tmp_path / "species.json").read_text())["sha256"]
    )
    # everything below an impossible threshold stays unknown and is queued least sure first
    classify(other, model=tmp_path / "species.json", videos=[video_b], threshold=1.0)
    queue = review_queue(other)
    todo = queue[~queue["reviewed"]]
    assert (todo["class"] == "unknown").all() and (todo["class_source"] == "unknown").all()
    assert todo["class_probability"].is_monotonic_increasing
    assert queue["reviewed"].tolist()[-1]  # the reviewed track comes last


def test_a_notebooks_numbers_and_wrong_arguments(clips, tmp_path):
    """``threshold=np.float32(0.9)`` (from an array) was refused as not a probability;
    ``model={...}`` or ``save_model=3`` were pathlib's TypeError 'expected str, bytes or
    os.PathLike object'."""
    store = unknown_copy(clips[0].truth, tmp_path / "a.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[0].truth).objects}
    apply_edits(store, [Edit("set_class", (i,), cls=c) for i, c in truth.items()])
    other = unknown_copy(clips[1].truth, tmp_path / "b.zarr")
    videos = {"videos": [clips[1].video], "train_videos": [clips[0].video]}
    with pytest.raises(TypeError, match="^classify: model must be a species model file or a Sp"):
        classify(other, model={"sha256": "..."}, videos=[clips[1].video])
    with pytest.raises(TypeError, match="^classify: save_model must be a path to the model file"):
        classify(other, train=[store], save_model=3, **videos)
    assert ecoseg.Review(other).log == []  # nothing named
    got = classify(other, train=[store], threshold=np.float32(0.9), **videos)
    # the threshold given is the one used: a track is named exactly where its probability
    # reaches 0.9, and some the default 0.5 would name stay unknown
    named = got["class_source"] == "classified"
    assert named.tolist() == (got["class_probability"] >= np.float32(0.9)).tolist()
    assert (got.loc[~named, "class"] == "unknown").all()
    assert ((got["class_probability"] >= 0.5) & ~named).any()
    record = ecoseg.species.edit_log(other)[-1]["classification"]
    assert record["threshold"] == pytest.approx(0.9)
    with pytest.raises(
        ecoseg.EcosegError, match=r"threshold \(--threshold\) must be a probability"
    ):
        classify(other, train=[store], threshold=np.True_, **videos)
    # no store: it trained (and saved) a model and returned an empty table without a word
    model = tmp_path / "m.json"
    for stores in ([], ()):
        with pytest.raises(ConfigError, match=r"^classify: no stores to classify \(give at"):
            classify(stores, train=[store], save_model=model, train_videos=[clips[0].video])
    assert not model.exists()


def test_a_saved_model_reproduces_the_classes_byte_for_byte(clips, tmp_path):
    store = unknown_copy(clips[2].truth, tmp_path / "r.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[2].truth).objects}
    apply_edits(store, [Edit("set_class", (i,), cls=c) for i, c in truth.items()])
    model = tmp_path / "m.json"
    runs = []
    for k in range(2):
        target = unknown_copy(clips[3].truth, tmp_path / f"t{k}.zarr")
        kwargs = {"train": [store], "save_model": model} if k == 0 else {"model": model}
        classify(target, videos=[clips[3].video], train_videos=[clips[2].video], **kwargs)
        runs.append(json.dumps(MaskStore.open(target).objects, sort_keys=True))
    assert runs[0] == runs[1]


def test_cli_classify_and_a_tampered_model(clips, tmp_path, capsys):
    from ecoseg.cli import main

    store = unknown_copy(clips[4].truth, tmp_path / "c.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[4].truth).objects}
    apply_edits(store, [Edit("set_class", (i,), cls=c) for i, c in list(truth.items())[:6]])
    model = tmp_path / "m.json"
    rc = main(
        [
            "classify",
            str(store),
            "--train",
            str(store),
            "--save-model",
            str(model),
            "--video",
            str(clips[4].video),
            "--train-video",
            str(clips[4].video),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "reviewed" in out and f"model: {model}" in out
    data = json.loads(model.read_text())
    data["classes"][0] = "shark"
    model.write_text(json.dumps(data))
    assert (
        main(["classify", str(store), "--model", str(model), "--video", str(clips[4].video)]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert "sha256" in err and "\n" not in err
    assert main(["classify", str(store)]) == 2
    assert "either training stores" in capsys.readouterr().err


def test_feature_version_is_recorded(clips, tmp_path):
    store = clips[0].truth
    f = track_features(store)
    m = SpeciesModel.fit(
        f.values, list(f.classes), feature_names=f.names, feature_version=FEATURE_VERSION
    )
    assert m.to_dict()["feature_version"] == FEATURE_VERSION


def test_mask_pooled_embeddings_are_appended_when_the_store_has_them(clips, tmp_path):
    from ecoseg.store.embeddings import EmbeddingTable, write_embeddings

    store = unknown_copy(clips[0].truth, tmp_path / "e.zarr")
    plain = track_features(store, clips[0].video)
    ids = plain.ids
    emb = np.arange(len(ids) * 2, dtype=np.float64).reshape(-1, 2)
    with MaskStore.open(store, mode="a") as s:  # all tracks but the first have one
        write_embeddings(s, EmbeddingTable(ids[1:], emb[1:], np.ones(len(ids) - 1)), source="t")
    f = track_features(store, clips[0].video)
    assert f.names == (*FEATURE_NAMES, "emb_0", "emb_1")
    assert np.array_equal(f.values[:, : len(FEATURE_NAMES)], plain.values, equal_nan=True)
    assert np.isnan(f.values[0, -2:]).all()
    assert f.values[1:, -2:].tolist() == emb[1:].tolist()


def test_a_classification_is_an_undoable_edit(clips, tmp_path):
    from ecoseg.cli import main
    from ecoseg.species import Review, edit_log

    store = unknown_copy(clips[0].truth, tmp_path / "u.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[0].truth).objects}
    first, second = 1, 3  # parrotfish and surgeonfish (id 2 never shows in these frames)
    apply_edits(store, [Edit("set_class", (i,), cls=truth[i]) for i in (first, second)])
    before = MaskStore.open(store)
    objects, attrs = before.objects, json.dumps(before.attrs["ecoseg"], sort_keys=True)
    labels = before.read_labels()
    classify(
        store, train=store, videos=[clips[0].video], train_videos=[clips[0].video], threshold=0.0
    )
    after = MaskStore.open(store).objects
    assert after != objects and edit_log(store)[-1]["kind"] == "classify"
    changed = set(edit_log(store)[-1]["ids"])
    assert changed and first not in changed and second not in changed  # reviewed: kept
    # a review edit after the classification is undone first, then the classification
    Review(store).set_class(first, "wrasse")
    assert main(["edit", str(store), "--undo"]) == 0
    assert MaskStore.open(store).objects == after
    Review(store).undo()
    back = MaskStore.open(store)
    assert back.objects == objects
    assert np.array_equal(back.read_labels(), labels)
    restored = {k: v for k, v in back.attrs["ecoseg"].items() if k != "edits"}
    old = {k: v for k, v in json.loads(attrs).items() if k != "edits"}
    assert restored == old  # the classification record is gone again too
    assert [e["kind"] for e in edit_log(store)][-4:] == ["classify", "set_class", "undo", "undo"]


def test_a_classification_that_changes_nothing_is_not_an_edit(clips, tmp_path, capsys):
    """A classify that changed no track (the same model again) still added an edit-log
    entry, so the next ``--undo`` undid that empty entry instead of the person's last edit."""
    from ecoseg.cli import main
    from ecoseg.species import Review, edit_log

    store = unknown_copy(clips[0].truth, tmp_path / "u.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[0].truth).objects}
    apply_edits(store, [Edit("set_class", (i,), cls=truth[i]) for i in (1, 3)])
    model = tmp_path / "m.json"
    video = str(clips[0].video)
    first = classify(store, train=store, videos=[video], train_videos=[video], save_model=model)
    assert first.attrs["changed"] == [str(store)]
    classified = MaskStore.open(store).objects
    Review(store).set_class(4, "wrasse")  # the person's last edit
    named = MaskStore.open(store).objects
    kinds = [e["kind"] for e in edit_log(store)]
    assert main(["classify", str(store), "--model", str(model), "--video", video]) == 0
    assert "none changed (no edit recorded)" in capsys.readouterr().out
    assert [e["kind"] for e in edit_log(store)] == kinds and MaskStore.open(store).objects == named
    assert main(["edit", str(store), "--undo"]) == 0  # undoes the person's edit
    assert MaskStore.open(store).objects == classified


def test_cli_review_queue_says_a_prompts_class_has_no_probability(clips, tmp_path, capsys):
    """A class typed with the prompt is kept and has no probability: the queue says so
    (it printed ``p=nan``)."""
    from ecoseg.cli import main

    train = unknown_copy(clips[4].truth, tmp_path / "train.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[4].truth).objects}
    apply_edits(train, [Edit("set_class", (i,), cls=c) for i, c in truth.items()])
    first = next(iter(truth))
    store = unknown_copy(clips[4].truth, tmp_path / "p.zarr", prompted={first})
    video = str(clips[4].video)
    args = ["classify", str(store), "--train", str(train), "--video", video]
    assert main([*args, "--train-video", video]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out
    assert f"track {first}: {truth[first]} class from prompt, no probability" in out
    assert "p=0." in out or "p=1.00" in out  # the classified tracks keep their figure
    # a track left unknown said "wrasse p=0.48", like a name given (and --reviewed on it
    # confirmed 'unknown'): it says unknown, its best guess and the edit that names it
    assert main([*args, "--train-video", video, "--threshold", "1"]) == 0
    lines = capsys.readouterr().out.split("review next (least confident first):\n")[1]
    guessed = [line for line in lines.splitlines() if "class from prompt" not in line]
    assert guessed and all(": unknown, best guess " in line for line in guessed), lines
    track, guess = guessed[0].split(" track ")[1].split(": unknown, best guess ")
    assert guessed[0].endswith(f"(name it: --set-class {track}={guess.split(' p=')[0]})")


def test_a_half_written_edit_gives_no_classes_and_nothing_is_written(
    clips, tmp_path, capsys, interrupt_edit
):
    """An ``ecoseg edit`` killed while rewriting labels: ``classify`` took the tracks of the
    half-edited labels, completed the edit and wrote classes (or trained and saved a model on
    them), exit 0. Now it refuses as ``measure`` does, with the command that completes the
    edit, before training, saving or writing anything; and works once it is completed."""
    from ecoseg.cli import main
    from ecoseg.errors import StoreError

    half = unknown_copy(clips[1].truth, tmp_path / "half.zarr")
    truth = {o["id"]: o["class"] for o in MaskStore.open(clips[1].truth).objects}
    apply_edits(half, [Edit("set_class", (i,), cls=c) for i, c in truth.items()])
    model = tmp_path / "m.json"
    video = str(clips[1].video)
    classify(half, train=half, videos=[video], train_videos=[video], save_model=model)
    other = unknown_copy(clips[2].truth, tmp_path / "other.zarr")
    queued = set(review_queue(half)["object_id"])
    interrupt_edit(half)  # --merge 1,2 --delete 3
    before = {f: f.read_bytes() for f in tmp_path.rglob("*") if f.is_file()}
    runs = [
        [half, "--model", model, "--video", video],
        [other, "--train", half, "--train-video", video, "--save-model", tmp_path / "new.json"],
    ]
    for args in runs:
        assert main(["classify", *map(str, args)]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and f"{half}: an interrupted `ecoseg edit` left 2 edits" in err
        assert f"ecoseg edit {half} --resume" in err
    assert {f: f.read_bytes() for f in tmp_path.rglob("*") if f.is_file()} == before
    with pytest.raises(StoreError, match="2 edits unfinished"):
        track_features(half, video)
    with pytest.raises(StoreError, match="2 edits unfinished"):  # it listed them for review
        review_queue(half)
    assert main(["edit", str(half), "--resume"]) == 0
    assert set(review_queue(half)["object_id"]) == queued - {2, 3}  # 2 merged into 1, 3 deleted
    assert main(["classify", str(half), "--model", str(model), "--video", video]) == 0


def test_track_features_print_one_short_line_in_a_notebook():
    n = 40
    f = TrackFeatures(
        store="s.zarr",
        ids=np.arange(1, n + 1),
        names=FEATURE_NAMES,
        values=np.zeros((n, len(FEATURE_NAMES))),
        classes=("wrasse",) * n,
        reviewed=np.arange(n) < 3,
    )
    assert repr(f) == (
        f"<TrackFeatures 's.zarr': 40 tracks [1, 2, 3, 4, 5, 6, 7, 8, ...] (40) x "
        f"{len(FEATURE_NAMES)} features (px), 3 reviewed>"
    )


def test_the_review_queue_puts_a_class_typed_with_the_prompt_after_the_models_guesses(tmp_path):
    """A class typed with the prompt has no probability; the queue counted it as 0, so it
    headed the queue over the model's unsure guesses (the CLI's "review next" listed the
    person's own names first). It counts as 1, as in the tables; unnamed tracks stay first."""
    labels = np.zeros((2, 8, 12), np.uint32)
    for k in range(1, 6):
        labels[:, k, 2 * k] = k
    objects = [
        {"id": 1, "class": "wrasse", "source": "prompt"},
        {"id": 2, "class": "parrotfish", "source": "tracker", "class_source": "classified",
         "class_probability": 0.6},
        {"id": 3, "class": "unknown", "source": "tracker"},
        {"id": 4, "class": "unknown", "source": "tracker", "class_source": "unknown",
         "class_probability": 0.3, "class_suggestion": "wrasse"},
        {"id": 5, "class": "wrasse", "source": "tracker", "class_source": "reviewed",
         "class_probability": 1.0, "reviewed": True},
    ]  # fmt: skip
    path = tmp_path / "q.zarr"
    with MaskStore.create(path, height=8, width=12, objects=objects) as s:
        s.append(labels, np.arange(2) / 10)
        s.mark_complete()
    queue = review_queue(path)
    assert queue["object_id"].tolist() == [3, 4, 2, 1, 5]
    assert np.isnan(queue.set_index("object_id").loc[1, "class_probability"])  # as stored


def test_tracks_of_a_concept_of_exemplars_alone_are_named_like_other_guesses(tmp_path):
    """A concept of exemplars alone gives its tracks the class ``visual`` (no name typed):
    a merge and a split count it as a guess, but ``classify`` left it as a concept's name,
    so such tracks were never named; a concept's typed name stays as it is."""
    from species_helpers import small_store

    train, path = tmp_path / "train.zarr", tmp_path / "m.zarr"
    img = small_store(train)
    apply_edits(train, [Edit("set_class", (1,), cls="red"), Edit("set_class", (2,), cls="blue")])
    small_store(path)  # red, blue, red, blue squares
    concepts = [
        {"id": 1, "class": "visual", "source": "concept", "class_source": "concept"},
        {"id": 2, "class": "visual", "source": "concept", "class_source": "concept"},
        {"id": 3, "class": "red", "source": "concept", "class_source": "concept"},
        {"id": 4, "class": "unknown", "source": "tracker"},
    ]
    labels = MaskStore.open(path).read_labels()
    with MaskStore.create(path, height=8, width=40, objects=concepts, overwrite=True) as s:
        s.append(labels, [0.0, 0.1, 0.2])
        s.mark_complete()
    out = classify(path, train=train, videos=[img], train_videos=[img], threshold=0.0)
    got = {o["id"]: (o["class"], o["class_source"]) for o in MaskStore.open(path).objects}
    assert got == {
        1: ("red", "classified"),
        2: ("blue", "classified"),
        3: ("red", "concept"),  # a name typed for the concept: kept
        4: ("blue", "classified"),
    }
    assert sorted(out.loc[out["class_source"] == "classified", "object_id"]) == [1, 2, 4]
    apply_edits(path, [Edit("undo")])  # the concept's class comes back
    back = [o["class"] for o in MaskStore.open(path).objects]
    assert back == ["visual", "visual", "red", "unknown"]


def test_track_features_leave_other_threads_warnings_alone(tmp_path):
    """``track_features`` hushed numpy's RuntimeWarning of a colour statistic with no value
    (NaN in every sample) with ``warnings.catch_warnings()`` and a filter, which are the
    process's: run in a napari worker it hid every other thread's RuntimeWarning meanwhile
    (and then put back the filters it found). Now it gives none and changes no filter."""
    import warnings

    from suite_helpers import warned_while_held

    import ecoseg.species.features as features

    clip = ecoseg.synth(tmp_path / "c", seed=0, frames=6, size=(96, 64))
    got = warned_while_held(
        lambda: track_features(clip.truth), features, "_mean_colour", RuntimeWarning
    )
    assert got["filters_kept"] and got["heard"] and got["others"] == []
    assert np.isfinite(got["result"].values[:, : len(features.COLOUR_NAMES)]).all()
    one = np.ones(len(features.COLOUR_NAMES))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no colour in any sample: NaN, not a warning
        col = features._mean_colour(
            {1: [one * np.nan], 2: [], 3: [one, one * np.nan, 3 * one]}, [1, 2, 3]
        )
    assert np.isnan(col[:2]).all() and (col[2] == 2).all()

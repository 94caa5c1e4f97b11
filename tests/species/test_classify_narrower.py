"""A classification with a model that does not know species an earlier classification or
discovery's colour rules gave says so, once per store: those tracks lose their names because
the model cannot give them, not because it decided otherwise, and ``ecoseg edit STORE --undo``
(``ecoseg.Review(STORE).undo()``) gives them back."""

import json
import warnings

import pytest
from species_helpers import small_store

import ecoseg
from ecoseg.cli import main
from ecoseg.measure.regions import class_source_of
from ecoseg.species import classify
from ecoseg.species.classify import NarrowerModelWarning, train_model
from ecoseg.species.edits import Edit
from ecoseg.species.model import SpeciesModelWarning
from ecoseg.species.review import ATTR_KEY, apply_edits
from ecoseg.store import MaskStore


def model_file(folder, names: dict[int, str]):
    """A model trained on a small store whose tracks are reviewed as ``names``, saved."""
    folder.mkdir()
    train = folder / "train.zarr"
    img = small_store(train)
    apply_edits(train, [Edit("set_class", (i,), cls=c) for i, c in names.items()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpeciesModelWarning)  # two tracks of each
        train_model(train, videos=[img]).save(folder / "species.json")
    return folder / "species.json"


@pytest.fixture
def models(tmp_path):
    """``wide``: names the red squares surgeonfish, the blue ones blue; ``narrow``: red and
    blue (a model that does not know surgeonfish)."""
    wide = model_file(tmp_path / "wide", {1: "surgeonfish", 2: "blue", 3: "surgeonfish", 4: "blue"})
    narrow = model_file(tmp_path / "narrow", {1: "red", 2: "blue", 3: "red", 4: "blue"})
    return wide, narrow


def classes(path) -> dict[int, tuple]:
    return {
        int(o["id"]): (o["class"], o.get("class_source"), bool(o.get("reviewed")))
        for o in MaskStore.open(path).objects
    }


def narrower_said(path, model, img) -> list[str]:
    """The NarrowerModelWarning lines classifying the store ``path`` with ``model`` says (at
    least one: ``pytest.warns``)."""
    with pytest.warns(NarrowerModelWarning) as caught:
        classify(path, model=model, videos=[img], threshold=0.0)
    return [str(w.message) for w in caught if w.category is NarrowerModelWarning]


def first_classified(tmp_path, wide):
    """A store classified by ``wide``: tracks 1 and 3 (red squares) both surgeonfish."""
    path = tmp_path / "m.zarr"
    img = small_store(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NarrowerModelWarning)  # no earlier classification
        classify(path, model=wide, videos=[img], threshold=0.0)
    return path, img


def test_a_model_that_cannot_give_an_earlier_name_says_so_and_keeps_a_persons(tmp_path, models):
    wide, narrow = models
    path, img = first_classified(tmp_path, wide)
    before = classes(path)
    assert [before[i][0] for i in (1, 3)] == ["surgeonfish", "surgeonfish"], before
    apply_edits(path, [Edit("set_class", (3,), cls="surgeonfish")])  # a person's name
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        classify(path, model=narrow, videos=[img], threshold=0.0)
    said = [str(w.message) for w in caught if w.category is NarrowerModelWarning]
    assert said == [
        f"{path}: 1 track loses the name 'surgeonfish' an earlier classification gave it, a "
        f"species the model does not know (it names blue, red); ecoseg edit {path} --undo (in "
        f"Python ecoseg.Review({str(path)!r}).undo()) gives it back"
    ]
    after = classes(path)
    assert after[1] == ("red", "classified", False)  # renamed: what the docs' rules write
    assert after[3] == ("surgeonfish", "reviewed", True)  # a person's name is kept
    assert main(["edit", str(path), "--undo"]) == 0
    assert classes(path)[1] == before[1]


def frames_folder(folder, img):
    """The frames ``img`` as a folder of PNG images (a video the command reads)."""
    from PIL import Image

    folder.mkdir()
    for k, frame in enumerate(img):
        Image.fromarray(frame).save(folder / f"f{k}.png")
    return folder


def test_the_command_says_it_in_one_line_once_per_store(tmp_path, models, capsys):
    wide, narrow = models
    paths, videos = [], []
    for name in ("m1", "m2"):
        (tmp_path / name).mkdir()
        path, img = first_classified(tmp_path / name, wide)
        paths.append(path)
        videos += ["--video", str(frames_folder(tmp_path / name / "frames", img))]
    capsys.readouterr()
    args = ["classify", *map(str, paths), *videos, "--model", str(narrow), "--threshold", "0"]
    assert main([*args, "--queue", "0"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert err == [
        f"ecoseg: warning: {p}: 2 tracks lose the name 'surgeonfish' an earlier classification "
        f"gave them, a species the model does not know (it names blue, red); ecoseg edit {p} "
        f"--undo (in Python ecoseg.Review({str(p)!r}).undo()) gives them back"
        for p in paths
    ]
    assert main(["edit", str(paths[0]), "--undo"]) == 0
    assert {c for c, _, _ in classes(paths[0]).values()} == {"surgeonfish", "blue"}


def test_several_lost_names_are_counted_each(tmp_path, models):
    _, narrow = models
    five = model_file(tmp_path / "five", {1: "surgeonfish", 2: "tang", 3: "surgeonfish", 4: "blue"})
    path, img = first_classified(tmp_path, five)
    assert [c for c, _, _ in classes(path).values()] == [
        "surgeonfish",
        "tang",
        "surgeonfish",
        "blue",
    ]
    assert narrower_said(path, narrow, img) == [
        f"{path}: 3 tracks lose the names 'surgeonfish' (2), 'tang' (1) an earlier "
        "classification gave them, species the model does not know (it names blue, red); "
        f"ecoseg edit {path} --undo (in Python ecoseg.Review({str(path)!r}).undo()) gives them "
        "back"
    ]


def named_by_rules(path, names: dict[int, str]) -> None:
    """Give the tracks of the store ``path`` classes as discovery's colour rules do (source
    ``discovered``, no class source: ``rule``, as the tables read it)."""
    s = MaskStore.open(path, mode="a")
    meta = json.loads(json.dumps(s.group.attrs.asdict()[ATTR_KEY]))
    for obj in meta["objects"]:
        if int(obj["id"]) in names:
            for key in ("class_source", "class_probability", "class_suggestion", "reviewed"):
                obj.pop(key, None)
            obj.update({"class": names[int(obj["id"])], "source": "discovered"})
    s.group.attrs.update({ATTR_KEY: meta})
    s.close()


def test_names_discoverys_colour_rules_gave_are_lost_as_a_classifications(tmp_path, models):
    """It said nothing when the names lost were the colour rules' (only a classification's)."""
    wide, narrow = models
    path = tmp_path / "m.zarr"
    img = small_store(path)
    named_by_rules(path, {1: "sea_star", 2: "blue", 3: "sea_star"})
    assert [class_source_of(o) for o in MaskStore.open(path).objects] == ["rule"] * 3 + ["unknown"]
    before = classes(path)
    assert narrower_said(path, narrow, img) == [
        f"{path}: 2 tracks lose the name 'sea_star' discovery's colour rules gave them, a "
        "species the model does not know (it names blue, red); ecoseg edit "
        f"{path} --undo (in Python ecoseg.Review({str(path)!r}).undo()) gives them back"
    ]
    assert ecoseg.Review(path).undo()  # the way back the warning names
    assert classes(path) == before
    # both givers in one store: each named with the names it gave
    path2 = tmp_path / "m2.zarr"
    img2 = small_store(path2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NarrowerModelWarning)
        classify(path2, model=wide, videos=[img2], threshold=0.0)  # 1, 3 surgeonfish
    named_by_rules(path2, {2: "sea_star"})
    said = narrower_said(path2, narrow, img2)
    assert said[0].startswith(
        f"{path2}: 3 tracks lose the names 'surgeonfish' (2) an earlier classification and "
        "'sea_star' (1) discovery's colour rules gave them, species the model does not know"
    ), said


def test_no_word_when_the_model_knows_every_earlier_name(tmp_path, models):
    wide, narrow = models
    ruled = tmp_path / "ruled.zarr"
    ruled_img = small_store(ruled)
    named_by_rules(ruled, {1: "red", 2: "blue"})  # names the model knows
    with warnings.catch_warnings():
        warnings.simplefilter("error", NarrowerModelWarning)
        classify(ruled, model=narrow, videos=[ruled_img])
    wider = model_file(tmp_path / "wider", {1: "surgeonfish", 2: "blue", 3: "red", 4: "blue"})
    path, img = first_classified(tmp_path, wide)
    fresh = tmp_path / "fresh.zarr"
    fresh_img = small_store(fresh)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NarrowerModelWarning)
        classify(path, model=wide, videos=[img], threshold=0.0)  # the same model again
        classify(path, model=wider, videos=[img], threshold=0.0)  # knows surgeonfish too
        classify(fresh, model=narrow, videos=[fresh_img])  # no earlier classification
        classify(fresh, model=wider, videos=[fresh_img])  # knows red and blue, narrow's
    assert {c for c, _, _ in classes(path).values()} == {"surgeonfish", "red", "blue"}

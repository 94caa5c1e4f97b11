"""Mistakes with ``ecoseg.sam3``'s Python API (build, checkpoint, tokenizer, ConceptPredictor),
and an empty ``--checkpoint`` on the command line: each is one line naming what is wrong, where
it was a Python traceback (TypeError, UnicodeDecodeError, EOFError, AttributeError), a folder
named ``.`` or no error at all."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from reliability_helpers import assert_names, assert_one_line_error

from ecoseg import sam2, sam3
from ecoseg.errors import CheckpointError, ConfigError, PromptError

pytestmark = pytest.mark.bad_input

IMAGE = np.zeros((48, 64, 3), np.uint8)
SAM3 = ["--model", "sam3", "--device", "cpu", "--concepts", "coral"]


@pytest.fixture(scope="module")
def model():
    import torch

    torch.manual_seed(0)
    return sam3.build("sam3-reduced", pretrained=False, device="cpu")


@pytest.fixture(scope="module")
def predictor(model):
    tokenizer = sam3.Tokenizer([("f", "i"), ("fi", "sh</w>")])
    predictor = sam3.ConceptPredictor(model, tokenizer=tokenizer)
    predictor.set_image(IMAGE)
    return predictor


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


VOCABULARIES = {
    # an empty or a text file was taken as a vocabulary of no merges (every word then split
    # into letters: other ids than the weights were trained on, without a word)
    "empty": lambda d: _write(d / "bpe_simple_vocab_16e6.txt", b""),
    "csv": lambda d: _write(d / "bpe_simple_vocab_16e6.txt", b"species,count\nfish,3\n"),
    # a checkpoint or other binary file: UnicodeDecodeError
    "binary": lambda d: _write(d / "bpe_simple_vocab_16e6.txt", b"PK\x03\x04\x80\xff\x00" * 9),
    # a download that stopped: EOFError (Compressed file ended before ...)
    "cut gzip": lambda d: _write(
        d / "bpe_simple_vocab_16e6.txt.gz",
        gzip.compress("".join(f"a{i} b{i}\n" for i in range(5000)).encode())[:2000],
    ),
    # the hub's files: json.JSONDecodeError, or a list where the {token: id} object goes
    "vocab.json not JSON": lambda d: (
        _write(d / "merges.txt", b"#version: 0.2\n"),
        _write(d / "vocab.json", b"{'a': 1"),
    )[1],
    "vocab.json a list": lambda d: (
        _write(d / "merges.txt", b"#version: 0.2\n"),
        _write(d / "vocab.json", b"[1, 2]"),
    )[1],
}


@pytest.mark.parametrize("kind", list(VOCABULARIES))
def test_a_file_that_is_no_tokenizer_vocabulary_is_named(tmp_path, kind):
    path = VOCABULARIES[kind](tmp_path)
    with pytest.raises(CheckpointError) as exc:
        sam3.Tokenizer.from_file(path)
    assert_names(exc, f"{path}: not a usable tokenizer vocabulary")


def test_an_empty_cached_vocabulary_is_refused_by_load_tokenizer(tmp_path, monkeypatch):
    """``sam3.load_tokenizer()`` of a cache whose CLIP file holds nothing gave a tokenizer."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / "sam3").mkdir()
    path = tmp_path / "sam3" / "bpe_simple_vocab_16e6.txt.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(CheckpointError) as exc:
        sam3.load_tokenizer()
    assert_names(exc, str(path), "no BPE merges", "ecoseg weights download sam3")


def test_a_broken_vocabulary_beside_the_checkpoint_is_named_before_it_is_read(tmp_path):
    """It was passed over without a word: ``model.tokenizer`` None (the predictor then said
    "no tokenizer"), or the cache's vocabulary instead of the one the user put there."""
    checkpoint = tmp_path / "sam3.pt"
    checkpoint.write_bytes(b"never read")
    vocabulary = tmp_path / "bpe_simple_vocab_16e6.txt"
    vocabulary.write_text("species,count\nfish,3\n")
    with pytest.raises(CheckpointError) as exc:
        sam3.build("sam3-reduced", checkpoint, device="cpu")
    assert_names(exc, f"{vocabulary}: not a usable tokenizer vocabulary", "replace it")


@pytest.mark.parametrize("build", [sam3.build, sam2.build], ids=["sam3", "sam2"])
def test_an_empty_checkpoint_path_is_named_as_such(build):
    """``checkpoint=""`` read the working folder: ``: is a folder, not a checkpoint file``."""
    name = "sam3-reduced" if build is sam3.build else "sam2.1-tiny"
    with pytest.raises(CheckpointError) as exc:
        build(name, "", device="cpu")
    assert_names(exc, "'': an empty path is not a checkpoint file")


@pytest.mark.parametrize(
    "args",
    [
        ["weights", "download", "sam3"],
        ["weights", "download", "sam2.1-tiny"],
        ["segment", "CLIP", "-o", "m.zarr", *SAM3],
    ],
    ids=["weights sam3", "weights sam2", "segment sam3"],
)
def test_an_empty_checkpoint_option_is_named_as_such(cli, clip, tmp_path, monkeypatch, args):
    """``--checkpoint ""`` said ``.: is a folder`` or ``: is a folder, not a checkpoint file``."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(*[clip.video if a == "CLIP" else a for a in args], "--checkpoint", "")
    assert_one_line_error(code, err, "'': an empty path is not a checkpoint file")
    assert not (tmp_path / "cache" / "sam3").exists() and not (tmp_path / "m.zarr").exists()


def test_a_state_dict_given_as_the_checkpoint_is_named(model):
    """``build("sam3", torch.load(...))``: TypeError (expected str, bytes or os.PathLike)."""
    with pytest.raises(CheckpointError) as exc:
        sam3.build("sam3-reduced", model.state_dict(), device="cpu")
    assert_names(exc, "checkpoint: expected the path of a checkpoint file", "got a OrderedDict")


def test_a_preset_name_given_as_the_config_is_named():
    """``build(config="sam3-reduced")``: AttributeError 'str' object has no attribute
    'with_image_size'."""
    with pytest.raises(ConfigError) as exc:
        sam3.build(config="sam3-reduced", pretrained=False, device="cpu")
    assert_names(exc, "config: expected a Sam3Config, got a str 'sam3-reduced'", "by name")


def test_a_sam2_model_is_refused_by_the_concept_predictor():
    """ConceptPredictor(sam2 model) was accepted; predict then failed with AttributeError."""
    with pytest.raises(ConfigError) as exc:
        sam3.ConceptPredictor(sam2.build("sam2.1-tiny", pretrained=False, device="cpu"))
    assert_names(exc, "model: expected a SAM 3 model", "SAM2Model", "encode_text")


def test_a_vocabulary_path_given_as_the_tokenizer_is_named(model, tmp_path):
    """``tokenizer="vocab.txt.gz"``: TypeError 'str' object is not callable, at predict."""
    with pytest.raises(ConfigError) as exc:
        sam3.ConceptPredictor(model, tokenizer="bpe_simple_vocab_16e6.txt.gz")
    assert_names(exc, "tokenizer: expected a Tokenizer", "'bpe_simple_vocab_16e6.txt.gz'")


@pytest.mark.parametrize(
    "setting", [{"score_threshold": 50}, {"mask_threshold": "high"}], ids=["percent", "text"]
)
def test_a_threshold_that_is_no_probability_is_named(model, setting):
    """50 (a percentage) kept no instance without a word; text was a bare ValueError."""
    with pytest.raises(ConfigError) as exc:
        sam3.ConceptPredictor(model, **setting)
    ((name, value),) = setting.items()
    assert_names(exc, f"{name} must be a probability from 0 to 1, got {value!r}")


@pytest.mark.parametrize(
    "text, culprit",
    [
        (5, "text must be a concept name or a list of them, got a int"),
        ({"fish"}, "got a set"),
        (["fish", " "], "text[1] must be a concept name (non-blank text), got ' '"),
        (["fish", None], "text[1] must be a concept name"),
    ],
    ids=["int", "set", "blank second", "None second"],
)
def test_a_text_that_is_no_concept_names_the_culprit(predictor, text, culprit):
    """5: TypeError 'int' object is not iterable; a set was taken in no order; a blank in a
    list echoed the whole list without saying which."""
    with pytest.raises(PromptError) as exc:
        predictor.predict(text=text)
    assert_names(exc, culprit)


@pytest.mark.parametrize(
    "text, culprit",
    [
        (["Fish", "fish"], "concepts 'Fish' and 'fish' differ only in case or spacing"),
        (["sea urchin", "sea  urchin"], "concept 'sea urchin' is given twice"),
        (["fish", "fish"], "concept 'fish' is given twice"),
    ],
    ids=["case", "spacing", "twice"],
)
def test_concept_names_alike_are_refused_as_in_a_prompt_file(predictor, text, culprit):
    """A prompt file refuses them (``check_concept_names``); ``predict`` answered both, two
    classes of one species."""
    with pytest.raises(PromptError) as exc:
        predictor.predict(text=text)
    assert_names(exc, culprit)


@pytest.mark.parametrize("image", ["reef/photo.jpg", b"photo.jpg"], ids=["str", "bytes"])
def test_a_photo_path_given_as_the_image_is_named(predictor, image):
    """It said ``got shape () dtype <U14``: a user reading the photo first had no hint."""
    from ecoseg.errors import VideoError

    with pytest.raises(VideoError) as exc:
        predictor.predict(image, text="fish")
    assert_names(exc, "got the path", "photo.jpg", "read it first")


@pytest.mark.parametrize(
    "points", ["x", 7, [[1, 2], [3]], [[True, 2]]], ids=["str", "int", "ragged", "true"]
)
def test_points_that_are_no_clicks_are_refused_in_one_line(predictor, points):
    """ValueError (could not convert string to float), TypeError, numpy's ragged-array error;
    ``true`` was read as 1."""
    with pytest.raises(PromptError) as exc:
        predictor.predict(points=points)
    assert_names(exc, "points must be clicks [x, y]", repr(points))


@pytest.mark.parametrize("token", [9000, -1], ids=["past-the-end", "negative"])
def test_decoding_an_id_outside_the_vocabulary_names_it(token):
    """``Tokenizer.decode`` of an unknown id was a bare ``KeyError: 9000``."""
    tokenizer = sam3.Tokenizer([("f", "i"), ("fi", "sh</w>")])
    with pytest.raises(PromptError) as exc:
        tokenizer.decode([tokenizer.start_id, token, tokenizer.end_id])
    assert_names(exc, f"token id {token} is not in the vocabulary (ids 0 to 515)")


@pytest.mark.parametrize(
    "token", [2.5, True, "514", np.float64(3.0)], ids=["2.5", "true", "text", "float64"]
)
def test_decoding_an_id_that_is_no_integer_is_refused(token):
    """``int()`` cut 2.5 to 2 and read ``True`` as 1 (a text, as ``int("514")``, too)."""
    tokenizer = sam3.Tokenizer([("f", "i"), ("fi", "sh</w>")])
    with pytest.raises(PromptError) as exc:
        tokenizer.decode([tokenizer.start_id, 513, token, tokenizer.end_id])
    assert_names(exc, f"token id {token!r} is not an integer (token ids are whole numbers from 0")


def test_decoding_takes_the_ids_the_tokenizer_gives():
    tokenizer = sam3.Tokenizer([("f", "i"), ("fi", "sh</w>")])
    ids = tokenizer(["fish"])[0]  # a LongTensor row, padded with 0 after the end token
    assert tokenizer.decode(ids) == tokenizer.decode(ids.numpy()) == "fish"

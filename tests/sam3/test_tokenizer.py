"""Our CLIP BPE tokenizer against transformers' CLIP tokenizer built from the same vocabulary."""

from __future__ import annotations

import gzip

import backbone_oracle as oracle
import pytest
import torch

from ecoseg.errors import CheckpointError
from ecoseg.sam3.tokenizer import Tokenizer, clean_text, pre_tokenize

SPECIES = [
    "Chaetodon lunula",
    "Scarus ghobban (juvenile)",
    "ACROPORA CERVICORNIS",
    "Épinéphèle marbré",  # precomposed diacritics
    "E\u0301pinephelus marginatus",  # combining accent: NFC makes it É
    "Pez-loro azul",
    "crown-of-thorns starfish",
    "Ołtarzewski's goby",
    "Naso unicornis  \t bluespine unicornfish",
    "Heniochus acuminatus (Linnaeus, 1758)",
    "Šarenica ribica",
    "naïve façade café",
    "Œil-de-bœuf",
    "Ñandú",
    "DON'T",
    "it’s",
    "日本語",
    # longer than the 32-token context: cut, last id = end token
    "Parupeneus multifasciatus — manybar goatfish, a very long common name that keeps "
    "going and going past thirty-two tokens for sure, as seen on the reef flat at low tide",
    "Pseudanthias squamipinnis Pseudanthias squamipinnis Pseudanthias squamipinnis "
    "Pseudanthias squamipinnis",
]


@pytest.fixture(scope="module")
def tokenizers():
    path = oracle.clip_vocabulary()
    ours = Tokenizer.from_file(path)
    pytest.importorskip("transformers")
    from transformers import CLIPTokenizer

    theirs = CLIPTokenizer(vocab=dict(ours.encoder), merges=list(ours.bpe_ranks))
    return ours, theirs


def test_same_ids_as_transformers_clip_tokenizer(tokenizers):
    ours, theirs = tokenizers
    got = ours(SPECIES)
    ref = theirs(SPECIES, padding="max_length", truncation=True, max_length=32, return_tensors="pt")
    # transformers pads with its pad token, Meta's tokenizer (and ours) with 0
    expected = torch.where(ref["attention_mask"].bool(), ref["input_ids"], 0)
    assert torch.equal(got, expected)
    lengths = (got != 0).sum(1)
    assert int(lengths.max()) == 32 and int(lengths.min()) == 4
    long_rows = got[lengths == 32]
    assert len(long_rows) == 2 and bool((long_rows[:, -1] == 49407).all())


def test_round_trip_and_cleaning(tokenizers):
    ours, _ = tokenizers
    ids = ours(["  Scarus   GHOBBAN "])[0]
    assert ids[0] == ours.start_id and ours.decode(ids) == "scarus ghobban"
    assert clean_text("Sea &amp; URCHIN") == "sea & urchin"
    assert pre_tokenize("sea-urchin's 12") == ["sea", "-", "urchin", "'s", "1", "2"]


def test_reads_the_hub_files_too(tokenizers, tmp_path):
    """``vocab.json`` + ``merges.txt`` (the hub's tokenizer files) give the same ids."""
    import json

    ours, _ = tokenizers
    (tmp_path / "vocab.json").write_text(json.dumps(ours.encoder), encoding="utf-8")
    merges = ["#version: 0.2"] + [" ".join(m) for m in ours.bpe_ranks]
    (tmp_path / "merges.txt").write_text("\n".join(merges) + "\n", encoding="utf-8")
    hub = Tokenizer.from_file(tmp_path)
    assert torch.equal(hub(SPECIES), ours(SPECIES))


def test_missing_vocabulary_says_how_to_get_it(tmp_path):
    with pytest.raises(CheckpointError, match="ecoseg weights download sam3"):
        Tokenizer.from_file(tmp_path)
    bad = tmp_path / "bpe_simple_vocab_16e6.txt.gz"
    with gzip.open(bad, "wt") as f:
        f.write("header\na b</w>\n")
    assert Tokenizer.from_file(bad).encode("ab") == [512]

"""CLIP's byte-level BPE tokenizer, as SAM 3 uses it (our implementation, no dependencies).

A prompt is cleaned (HTML entities unescaped, Unicode NFC, runs of white space to one space,
lower case), split into words, numbers and punctuation runs (the CLIP pattern:
contractions ``'s 't 're 've 'm 'll 'd``, letter runs, single digits, runs of anything else
that is not white space), each piece is mapped byte by byte to printable characters and merged
by the BPE ranks; ``</w>`` marks the end of a word. The ids are wrapped in start (49406) and
end (49407) tokens and padded with 0 to the context length (32 for SAM 3); a longer prompt is
cut to the context length with its last id replaced by the end token.

The vocabulary is not shipped with ecoseg: it comes with the weights (``vocab.json`` and
``merges.txt`` of the hub repository, fetched by ``ecoseg weights download sam3``) or from
CLIP's ``bpe_simple_vocab_16e6.txt.gz`` (MIT, shipped by Meta's ``sam3`` and by
``open_clip``).

Exports
-------
``Tokenizer(merges, vocab=None, context_length=32)``
    ``tokenizer(texts) -> LongTensor (B, context_length)``; ``encode(text) -> list[int]``
    (no start/end); ``decode(ids) -> str``.
``Tokenizer.from_file(path)``
    A ``bpe_simple_vocab_16e6.txt.gz`` (or plain ``.txt``) merges file, a ``vocab.json``
    next to a ``merges.txt``, or a folder holding either.
``find_vocabulary(folder) -> list[Path]``
    The vocabulary files in a folder (``vocab.json`` + ``merges.txt``, or CLIP's merges file).
``clean_text(text) -> str``, ``pre_tokenize(text) -> list[str]``, ``bytes_to_unicode()``

Examples
--------
>>> clean_text("  Sea   URCHIN &amp; Crab ")
'sea urchin & crab'
>>> pre_tokenize("sea-urchin's 2 fins")
['sea', '-', 'urchin', "'s", '2', 'fins']
"""

from __future__ import annotations

import functools
import gzip
import html
import json
import operator
import os
import unicodedata
from pathlib import Path

from ecoseg.errors import CheckpointError, PromptError

__all__ = [
    "Tokenizer",
    "find_vocabulary",
    "clean_text",
    "pre_tokenize",
    "bytes_to_unicode",
    "CONTEXT_LENGTH",
    "START_TOKEN",
    "END_TOKEN",
]

#: SAM 3's text context length.
CONTEXT_LENGTH = 32
#: Names of the start and end tokens in the hub's ``vocab.json``.
START_TOKEN, END_TOKEN = "<|startoftext|>", "<|endoftext|>"
_NUM_MERGES = 49152 - 256 - 2  # CLIP uses the first 48894 merges of the file
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


@functools.cache
def bytes_to_unicode() -> dict[int, str]:
    """CLIP's reversible map of the 256 byte values to printable characters.

    Printable Latin-1 bytes map to themselves; the others to code points from 256 upwards.

    Examples
    --------
    >>> table = bytes_to_unicode()
    >>> table[ord("a")], table[ord(" ")]
    ('a', 'Ġ')
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += list(range(ord("®"), ord("ÿ") + 1))
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return dict(sorted(table.items()))


def clean_text(text: str) -> str:
    """Unescape HTML entities, NFC-normalise, collapse white space, strip, lower-case.

    Examples
    --------
    >>> clean_text("Acropora\\tCERVICORNIS")
    'acropora cervicornis'
    """
    text = html.unescape(html.unescape(text))
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.split()).lower()


def _kind(ch: str) -> str:
    if ch.isspace():
        return "space"
    cat = unicodedata.category(ch)
    return "letter" if cat[0] == "L" else "number" if cat[0] == "N" else "other"


def pre_tokenize(text: str) -> list[str]:
    """Split cleaned text into CLIP's pieces (contractions, letter runs, digits, symbol runs).

    Examples
    --------
    >>> pre_tokenize("blue-spotted (juv.) 12")
    ['blue', '-', 'spotted', '(', 'juv', '.)', '1', '2']
    """
    pieces = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        kind = _kind(ch)
        if kind == "space":
            i += 1
            continue
        if ch == "'":
            hit = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
            if hit is not None:
                pieces.append(hit)
                i += len(hit)
                continue
        j = i + 1
        if kind == "letter":
            while j < n and _kind(text[j]) == "letter":
                j += 1
        elif kind == "other":
            while j < n and _kind(text[j]) == "other":
                j += 1
        pieces.append(text[i:j])
        i = j
    return pieces


def find_vocabulary(folder: str | os.PathLike) -> list[Path]:
    """The tokenizer vocabulary files in ``folder``: ``[vocab.json, merges.txt]`` (the hub's),
    else ``[bpe_simple_vocab*.txt*]`` (CLIP's merges file), else ``[]``; the first is what
    :meth:`Tokenizer.from_file` reads.

    Examples
    --------
    >>> import tempfile
    >>> find_vocabulary(tempfile.mkdtemp())
    []
    """
    place = Path(folder)
    if (place / "vocab.json").is_file() and (place / "merges.txt").is_file():
        return [place / "vocab.json", place / "merges.txt"]
    return [p for p in sorted(place.glob("bpe_simple_vocab*.txt*")) if p.is_file()][:1]


def _read_text(path: Path) -> str:
    """A vocabulary file's text (gunzipped for ``.gz``), or one line naming the file."""
    try:
        raw = gzip.open(path).read() if path.name.endswith(".gz") else path.read_bytes()
        return raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise CheckpointError(f"{path}: not a usable tokenizer vocabulary ({reason})") from None


def _merges(path: Path, lines: list[str], start: int, stop: int) -> list[tuple[str, str]]:
    """The BPE merges of ``lines[start:stop]`` (blank lines skipped), or one line naming the
    file and the first line that is not two symbols, or saying the file holds none (a toy
    ``merges.txt`` of a ``#version`` line alone is allowed)."""
    merges = []
    for number, line in enumerate(lines[start:stop], start + 1):
        pair = tuple(line.split())
        if len(pair) == 2:
            merges.append(pair)
        elif pair:
            raise CheckpointError(
                f"{path}: not a usable tokenizer vocabulary (line {number} is not a BPE merge "
                f"of two symbols: {line[:40]!r})"
            )
    if not merges and not lines[0].startswith("#version"):
        raise CheckpointError(f"{path}: not a usable tokenizer vocabulary (it holds no BPE merges)")
    return merges


def _pairs(word: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in zip(word[:-1], word[1:])}


class Tokenizer:
    """CLIP BPE tokenizer with SAM 3's context length and zero padding.

    Parameters
    ----------
    merges : list of (str, str)
        BPE merges, best first (CLIP uses the first 48894).
    vocab : dict of str to int, optional
        Token ids; default: CLIP's construction from the merges (256 byte symbols, the same
        with ``</w>``, one token per merge, then the start and end tokens).
    context_length : int
        Length of every id row.

    Examples
    --------
    >>> merges = [("s", "e"), ("se", "a</w>")]
    >>> tok = Tokenizer(merges, context_length=6)
    >>> tok.encode("Sea sea")
    [513, 513]
    >>> tok(["sea"]).tolist()
    [[514, 513, 515, 0, 0, 0]]
    """

    def __init__(
        self,
        merges: list[tuple[str, str]],
        vocab: dict[str, int] | None = None,
        context_length: int = CONTEXT_LENGTH,
    ) -> None:
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        merges = [tuple(m) for m in merges]
        if vocab is None:
            symbols = list(self.byte_encoder.values())
            tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
            tokens += [START_TOKEN, END_TOKEN]
            vocab = {t: i for i, t in enumerate(tokens)}
        if START_TOKEN not in vocab or END_TOKEN not in vocab:
            raise CheckpointError(f"the vocabulary has no {START_TOKEN} / {END_TOKEN} tokens")
        self.encoder = dict(vocab)
        self.decoder = {i: t for t, i in self.encoder.items()}
        self.bpe_ranks = {m: i for i, m in enumerate(merges)}
        self.start_id = self.encoder[START_TOKEN]
        self.end_id = self.encoder[END_TOKEN]
        self.context_length = context_length
        self._cache: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_file(cls, path: str | os.PathLike, context_length: int = CONTEXT_LENGTH):
        """Read a vocabulary: a CLIP merges file (``.txt.gz`` / ``.txt``), a ``vocab.json``
        with its ``merges.txt`` alongside, or a folder holding either.

        Raises
        ------
        CheckpointError
            Nothing at ``path``, or a file that is no vocabulary (not UTF-8 text, a damaged
            gzip or JSON file, a line that is not a merge of two symbols, no merges at all):
            one line naming the file.
        """
        p = Path(path)
        if p.is_dir():
            found = find_vocabulary(p)
            if not found:
                raise CheckpointError(
                    f"no tokenizer vocabulary in {p} (expected vocab.json + merges.txt or "
                    f"bpe_simple_vocab_16e6.txt.gz); run `ecoseg weights download sam3`"
                )
            p = found[0]
        if not p.is_file():
            raise CheckpointError(
                f"tokenizer vocabulary not found: {p}; run `ecoseg weights download sam3`"
            )
        if p.name.endswith(".json"):
            merges_file = p.with_name("merges.txt")
            if not merges_file.is_file():
                raise CheckpointError(f"{p} has no merges.txt next to it")
            try:
                vocab = json.loads(_read_text(p))
            except ValueError as exc:
                raise CheckpointError(f"{p}: not a usable tokenizer vocabulary ({exc})") from None
            if not isinstance(vocab, dict) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in vocab.values()
            ):
                raise CheckpointError(
                    f"{p}: not a usable tokenizer vocabulary (no {{token: id}} object)"
                )
            lines = _read_text(merges_file).split("\n")
            start = 1 if lines[0].startswith("#version") else 0
            merges = _merges(merges_file, lines, start, len(lines))
            return cls(merges, vocab, context_length)
        lines = _read_text(p).split("\n")
        return cls(_merges(p, lines, 1, _NUM_MERGES + 1), None, context_length)

    # ------------------------------------------------------------------ encoding
    def _bpe(self, piece: str) -> list[str]:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        word = (*piece[:-1], piece[-1] + "</w>")
        pairs = _pairs(word)
        while pairs:
            best = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if best not in self.bpe_ranks:
                break
            first, second = best
            merged: list[str] = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
            pairs = _pairs(word) if len(word) > 1 else set()
        out = list(word)
        self._cache[piece] = out
        return out

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without start/end tokens."""
        ids = []
        for piece in pre_tokenize(clean_text(text)):
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(mapped))
        return ids

    def encode_batch(self, texts: list[str] | str) -> list[list[int]]:
        """Start + ids + end per text, cut to the context length (last id = end token)."""
        if isinstance(texts, str):
            texts = [texts]
        rows = []
        for text in texts:
            ids = [self.start_id, *self.encode(text), self.end_id]
            if len(ids) > self.context_length:
                ids = ids[: self.context_length]
                ids[-1] = self.end_id
            rows.append(ids)
        return rows

    def __call__(self, texts: list[str] | str):
        """``(B, context_length)`` int64 tensor of ids, zero-padded."""
        import torch

        rows = self.encode_batch(texts)
        out = torch.zeros(len(rows), self.context_length, dtype=torch.long)
        for i, ids in enumerate(rows):
            out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def decode(self, ids) -> str:
        """Text of ids up to the end token (start token dropped), words separated by spaces.

        Raises
        ------
        PromptError
            An id that is not in the vocabulary, named with the vocabulary's range, or that is
            not an integer (``2.5`` was cut to 2, ``True`` read as 1).

        Examples
        --------
        >>> tok = Tokenizer([("s", "e"), ("se", "a</w>")], context_length=6)
        >>> tok.decode([514, 513, 515, 0])
        'sea'
        >>> tok.decode([514, 9000])
        Traceback (most recent call last):
        ...
        ecoseg.errors.PromptError: token id 9000 is not in the vocabulary (ids 0 to 515)
        >>> tok.decode([514, 2.5])
        Traceback (most recent call last):
        ...
        ecoseg.errors.PromptError: token id 2.5 is not an integer (token ids are whole numbers \
from 0 to 515)
        """
        tokens = []
        for given in ids:
            try:  # ints, numpy's and a LongTensor's; int() cut 2.5 to 2 and read True as 1
                if isinstance(given, bool):
                    raise TypeError
                i = operator.index(given)
            except TypeError:
                raise PromptError(
                    f"token id {given!r} is not an integer (token ids are whole numbers from "
                    f"{min(self.decoder)} to {max(self.decoder)})"
                ) from None
            if i == self.end_id:
                break
            if i not in self.decoder:
                raise PromptError(
                    f"token id {i} is not in the vocabulary (ids {min(self.decoder)} to "
                    f"{max(self.decoder)})"
                )
            if i != self.start_id:
                tokens.append(self.decoder[i])
        text = "".join(tokens)
        data = bytearray(self.byte_decoder[c] for c in text)
        return data.decode("utf-8", errors="replace").replace("</w>", " ").strip()

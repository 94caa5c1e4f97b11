"""The reader opens each store once: its layers and the check of unfinished edits share the
open store, which is closed after, unless its labels stay lazy (then the layer reads it)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

import ecoseg  # noqa: E402


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip"), seed=3, frames=6, size=(64, 48))


def _read(path) -> list[tuple]:
    import threading

    from ecoseg.napari._check import THREAD_NAME
    from ecoseg.napari._reader import read_store

    layers = read_store(str(path))
    for thread in threading.enumerate():  # the video check reads no store either
        if thread.name == THREAD_NAME:
            thread.join(timeout=120)
    return layers


def _labels(layers) -> np.ndarray:
    (data,) = [data for data, _, kind in layers if kind == "labels"]
    return data


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_a_store_is_opened_once_and_closed(opened, clip, tmp_path, form):
    path = str(clip.truth)
    if form == "zip":  # a zip store's file stays open until the store is closed
        path = shutil.make_archive(str(tmp_path / "truth"), "zip", root_dir=clip.truth)
        shutil.copyfile(clip.video, tmp_path / "video.mp4")  # found beside the store
    layers = _read(path)
    assert [kind for _, _, kind in layers] == ["image", "labels", "tracks"]
    assert [p for p, _ in opened] == [path]
    (_, store), *_ = opened
    assert store.closed  # the masks were read into memory: nothing reads the store any more
    np.testing.assert_array_equal(_labels(layers), ecoseg.open_masks(clip.truth).labels.values)


def test_a_lazy_store_is_opened_once_and_left_open_for_its_layer(opened, clip, monkeypatch):
    from ecoseg.napari import _layers

    monkeypatch.setattr(_layers, "EDITABLE_BYTES", 0)  # labels over it stay lazy
    layers = _read(clip.truth)
    assert [p for p, _ in opened] == [str(clip.truth)]
    (_, store), *_ = opened
    assert not store.closed
    labels = _labels(layers)
    assert not isinstance(labels, np.ndarray)
    np.testing.assert_array_equal(np.asarray(labels[4]), store.read_labels(4, 5)[0])

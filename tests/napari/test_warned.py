"""Each widget's worker keeps its own thread's warnings (ecoseg.napari._warned).

napari's workers (superqt's ``WorkerBase.run``) caught their warnings by pointing Python's
process-wide ``warnings.showwarning`` at their own ``warned`` signal while they ran: with a
*Review tracks* edit and *Measure* running at once, the worker started last took both
threads' warnings (Review's ``DroppedEditsWarning`` came out of Measure's worker, and Review
showed none), or Review showed Measure's as its own.
"""

from __future__ import annotations

import shutil
import threading
import warnings

import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.sample import sample  # noqa: E402
from ecoseg.store import MaskStore  # noqa: E402


def _text(w) -> str:
    """A warning's words, kept as a ``WarningMessage`` or as ``showwarning``'s arguments."""
    return str(w.message if hasattr(w, "message") else w[0])


def test_two_threads_keep_only_their_own_warnings():
    from ecoseg.napari._warned import own_warnings

    both = threading.Barrier(2, timeout=20)
    seen = {}

    def run(name):
        with own_warnings() as log:
            both.wait()  # both keep their warnings before either warns
            warnings.warn(f"{name}'s warning", UserWarning, stacklevel=1)
            both.wait()  # and both have warned before either stops keeping them
        seen[name] = [_text(w) for w in log]

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    with warnings.catch_warnings(record=True) as here:
        warnings.simplefilter("always")
        for thread in threads:
            thread.join()
        warnings.warn("the main thread's", UserWarning, stacklevel=1)  # kept by none
    assert seen == {"a": ["a's warning"], "b": ["b's warning"]}
    assert [_text(w) for w in here] == ["the main thread's"]


def test_the_innermost_keeper_of_a_thread_keeps_its_warning():
    """A widget worker's ``own_warnings`` and a campaign task's ``recorded`` had a hook each on
    Python's warnings, one put before the other: whichever was put last took the thread's
    warnings, however the two were nested. One hook now: the block within keeps them."""
    from ecoseg._warn import recorded
    from ecoseg.napari._warned import own_warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        with own_warnings() as outer_log, recorded() as inner_kept:
            warnings.warn("within recorded", RuntimeWarning, stacklevel=1)
        with recorded() as outer_kept, own_warnings() as inner_log:
            warnings.warn("within own_warnings", RuntimeWarning, stacklevel=1)
    assert inner_kept == [("within recorded", RuntimeWarning)] and outer_log == []
    assert [_text(w) for w in inner_log] == ["within own_warnings"] and outer_kept == []


def test_a_review_edit_and_measure_at_once_each_show_their_own_warning(
    make_napari_viewer, tmp_path, monkeypatch, qtbot
):
    """Review's edit drops the rest of an interrupted ``ecoseg edit`` (a
    ``DroppedEditsWarning``) while Measure's run warns too, both workers running: Review
    shows only its own, and Measure's worker only Measure's."""
    import ecoseg.species
    from ecoseg.napari import _measure
    from ecoseg.napari._measure import MeasureWidget
    from ecoseg.napari._review import ReviewWidget
    from ecoseg.species._edit_log import read_meta, write_meta

    path = shutil.copytree(sample().truth, tmp_path / "truth.zarr")
    with MaskStore.open(path, mode="a") as s:  # an interrupted edit whose rest no longer fits
        meta = read_meta(s)
        meta["edit_queue"] = [{"kind": "delete", "ids": [99]}]
        write_meta(s, meta)
    both = threading.Barrier(2, timeout=30)

    def together(func, warn=None):  # both workers run while either warns
        def run(*args, **kwargs):
            both.wait()
            try:
                if warn is not None:
                    warnings.warn(warn, UserWarning, stacklevel=1)
                return func(*args, **kwargs)
            finally:
                both.wait()

        return run

    monkeypatch.setattr(ecoseg.species, "apply_edits", together(ecoseg.species.apply_edits))
    monkeypatch.setattr(
        _measure, "measure_labels", together(_measure.measure_labels, "measure's own")
    )
    seen = {"review": [], "measure": []}
    review_finished, measured = ReviewWidget._finished, MeasureWidget._measured

    def review_done(self):  # what Review shows when its worker is done
        seen["review"] += [_text(w) for w in self._warnings]
        review_finished(self)

    def measure_done(self, ran):  # what Measure's worker brought back with its tables
        seen["measure"] += [_text(w) for w in getattr(ran, "warnings", ())]
        measured(self, ran)

    monkeypatch.setattr(ReviewWidget, "_finished", review_done)
    monkeypatch.setattr(MeasureWidget, "_measured", measure_done)

    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    review = ReviewWidget(viewer)
    viewer.window.add_dock_widget(review)
    review.wait()
    seen["review"].clear()  # the gallery's read
    measure = MeasureWidget(viewer)
    viewer.window.add_dock_widget(measure)
    review.select(2)
    review.delete()
    measure.measure()
    measure._worker.warned.connect(lambda w: seen["measure"].append(_text(w)))
    qtbot.waitUntil(lambda: review._worker is None and measure._worker is None, timeout=60_000)
    assert review.status.text().startswith("edit 1: Delete on track 2"), review.status.text()
    assert "regions" in measure.status.text(), measure.status.text()
    # in the buttons' words (it said ``--delete 99``: ``ecoseg edit``'s, no control here)
    assert len(seen["review"]) == 1 and ": Delete on track 99: no track 99" in seen["review"][0]
    assert seen["measure"] == ["measure's own"], seen

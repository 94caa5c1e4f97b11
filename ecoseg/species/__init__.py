"""Species: review edits on a mask store, and a classifier trained from reviewed tracks.

- :class:`~ecoseg.species.review.Review` and :func:`~ecoseg.species.review.apply_edits`:
  set class, merge, split, delete, mark reviewed, undo (what it took back:
  :class:`~ecoseg.species._undo_words.UndoneEdit`; its tracks, ``Review.objects``:
  :class:`~ecoseg.provenance.ObjectRecord`, named here too); written chunk-atomically with an
  append-only edit log in the store (:mod:`ecoseg.species.review`):
  :func:`~ecoseg.species._edit_log.edit_log` its entries,
  :func:`~ecoseg.species._edit_log.log_lines` the log in plain words (``ecoseg edit --log``);
- :func:`~ecoseg.species.classify.classify` and
  :func:`~ecoseg.species.classify.train_model`: per-track features
  (:mod:`ecoseg.species.features`) and a class-balanced logistic regression
  (:mod:`ecoseg.species.model`) saved as JSON;
- :func:`~ecoseg.species.classify.review_queue`: least confident tracks first;
  :func:`~ecoseg.species.diverse.diverse_queue`: before any model, the most representative
  track first, then always the most different one (colour morphs, sizes);
- :func:`~ecoseg.species.truth.truth_classes`: tracks named from a ground-truth store (a
  reviewer's stand-in on synthetic clips, or annotations someone already made).

Never imports torch or the engines: it reads stores (and the video they were made from) and
writes the object table, the labels array and the edit log back into the store.
"""

from ecoseg.provenance import ObjectRecord
from ecoseg.species._edit_record import Edit, parse_edit_args
from ecoseg.species.classify import classify, review_queue, train_model
from ecoseg.species.diverse import diverse_queue
from ecoseg.species.model import ModelError, SpeciesModel
from ecoseg.species.review import Review, UndoneEdit, apply_edits, edit_log, log_lines
from ecoseg.species.truth import truth_classes

__all__ = [
    "Edit",
    "ModelError",
    "ObjectRecord",
    "Review",
    "SpeciesModel",
    "UndoneEdit",
    "apply_edits",
    "classify",
    "diverse_queue",
    "edit_log",
    "log_lines",
    "parse_edit_args",
    "review_queue",
    "train_model",
    "truth_classes",
]

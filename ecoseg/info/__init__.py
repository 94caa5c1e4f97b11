"""What a mask store holds and whether it survived a copy intact (``ecoseg info``).

:func:`summary` reads a store's attributes and times into a :class:`StoreSummary` (frame size,
frames, complete or interrupted, duration, objects by class and class source, review edits,
provenance, calibration); :func:`verify` reads every chunk and returns a :class:`Problem` for
each missing or damaged one, with its frames, and for a video that is not the store's.

Examples
--------
>>> import ecoseg, tempfile
>>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(64, 48))
>>> ecoseg.info.summary(clip.truth).frames, ecoseg.info.verify(clip.truth)
(4, [])
"""

from ecoseg.info.summary import StoreSummary, summary
from ecoseg.info.verify import Problem, verify

__all__ = ["Problem", "StoreSummary", "summary", "verify"]

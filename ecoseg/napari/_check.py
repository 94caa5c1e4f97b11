"""Whether what a store's layers show can be trusted: its video, and its edits.

Opening a store in napari also opens its video when it is found (by its recorded path, beside
the store, or in a folder moved whole with it). The check runs in a background thread, so the
layers show without waiting: frame size and count first (a warning for those comes at once),
then the sha256, which reads the whole file (about 0.7 s of CPU per GB, so seconds for a BRUV
hour of 4-8 GB). If the video is not the store's, a napari warning names both files and what differs
(:func:`ecoseg.io.video.video_mismatch`).

A store an interrupted ``ecoseg edit`` left half written still opens (looking is harmless),
but with one napari warning in the words ``ecoseg measure`` refuses it with
(:func:`ecoseg.store.check_finished`): how many edits are unfinished and
``ecoseg edit STORE --resume`` (:func:`check_edits`).

The *Segment & track* widget re-tracks the masks of its ``ecoseg masks`` layer only on the
video they were made on (:func:`other_video`): the masks of one video must not prompt a
re-track on another of the same size. The *Review tracks* widget draws its thumbnails only from
a video layer that shows the video the reviewed masks were made on (:func:`matching_video`),
and says which video to open when none does (:func:`video_to_open`): another video's pixels
under a track would have a reviewer name the wrong species.

A store whose video is not found opens without it, with one napari warning naming the video
(:func:`missing_video`): the reader cannot see the viewer's other layers, so it cannot tell
whether a video already open (another clip of the same size) is the store's; the warning says
that none is checked, so the masks are not read over another clip's footage unawares.

An output that exists is refused in the package's one wording, whose remedy (``overwrite=True``,
``--overwrite``) napari has no control for: :func:`napari_remedy` gives the widget's own; any
other option a library message names as ``keyword (--flag)`` the widgets name by the label of
their control that sets it, or by its keyword where they have none (:func:`napari_words`). (An
edit the *Review tracks* widget makes is refused naming the widget's buttons where the message
is written: :func:`ecoseg.napari._review_words.button_words`.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ecoseg._paths import same_location
from ecoseg.errors import EcosegError

__all__ = [
    "THREAD_NAME",
    "check_edits",
    "check_video_later",
    "edit_warning",
    "matching_video",
    "missing_video",
    "napari_remedy",
    "napari_words",
    "note_missing_video",
    "other_video",
    "video_to_open",
    "video_warning",
]

#: Name of the background thread (tests and users can find and join it).
THREAD_NAME = "ecoseg-video-check"


def video_warning(video: str, store: str, recorded: Any, *, layer: str | None = None) -> str | None:
    """The warning for ``video`` shown under ``store``'s masks, or ``None`` if it is the store's.

    Parameters
    ----------
    video : str
        The video file (or image folder) found for the store.
    store : str
        The store.
    recorded : ecoseg.provenance.VideoSource or None
        The store's recorded video.
    layer : str, optional
        The name of the video's layer, named in the warning (the layer stays: the user
        closes it, or keeps it if it is, say, a re-encoded copy showing the same footage).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> from ecoseg.store import MaskStore
    >>> d = tempfile.mkdtemp()
    >>> a = ecoseg.synth(d + "/a", frames=3, size=(64, 48), seed=1)
    >>> b = ecoseg.synth(d + "/b", frames=3, size=(64, 48), seed=2)
    >>> made = MaskStore.open(a.truth).provenance_record.video
    >>> video_warning(str(a.video), str(a.truth), made) is None
    True
    >>> said = video_warning(str(b.video), "a/truth.zarr", made, layer="video [1]")
    >>> said.startswith(str(b.video))
    True
    >>> print(said[len(str(b.video)) :])
     is not the video a/truth.zarr was made from (video.mp4): the sha256 differs; the video
     layer 'video [1]' does not show this store's frames
    """
    from ecoseg.io.video import open_video, video_mismatch

    try:
        with open_video(video) as reader:
            why = video_mismatch(reader, recorded)
    except (OSError, EcosegError) as exc:
        return f"{video} could not be checked against {store}: {' '.join(str(exc).split())}"
    if why is None:
        return None
    made = getattr(recorded, "path", None) or "path not recorded"
    shown = "the video layer" if layer is None else f"the video layer {layer!r}"
    return (
        f"{video} is not the video {store} was made from ({made}): {why}; "
        f"{shown} does not show this store's frames"
    )


def other_video(meta: Mapping[str, Any], video: str, layer: str) -> str | None:
    """Why the masks of a Labels layer were not made on ``video``, or ``None`` if they were.

    A layer records the video its masks were made on (``provenance["video"]`` of its
    ``metadata["ecoseg"]``): the file of the video layer the *Segment & track* widget tracked,
    or a store's recorded video. Another file is another video, unless the layer records the
    video's sha256 and the file has it (a store's video found beside the moved store). A
    layer that records no video (drawn by hand) fits any.

    Parameters
    ----------
    meta : dict
        The layer's ``metadata["ecoseg"]``.
    video : str
        The video file (or image folder) the masks would be tracked on.
    layer : str
        The layer's name, for the message.

    Returns
    -------
    str or None
        One line naming the layer, its store (when it has one) and both videos.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> d = tempfile.mkdtemp()
    >>> a = ecoseg.synth(d + "/a", frames=2, size=(64, 48), seed=1)
    >>> b = ecoseg.synth(d + "/b", frames=2, size=(64, 48), seed=2)
    >>> meta = {"provenance": {"video": {"path": str(a.video)}}}
    >>> other_video(meta, str(a.video), "ecoseg masks") is None
    True
    >>> print(other_video(meta, str(b.video), "ecoseg masks"))  # doctest: +ELLIPSIS
    'ecoseg masks' holds masks of .../a/video.mp4, not of the chosen video .../b/video.mp4: ...
    """
    recorded = (meta.get("provenance") or {}).get("video")
    if not isinstance(recorded, Mapping) or _same_video(video, recorded):
        return None
    store = meta.get("store")
    where = f"{layer!r} (from {store})" if store else repr(layer)
    made = recorded.get("path") or "a video whose path is not recorded"
    return (
        f"{where} holds masks of {made}, not of the chosen video {video}: choose that video, "
        "or press Track to track this one from the start"
    )


def matching_video(meta: Mapping[str, Any], videos: Sequence[tuple[str, str]]) -> str | None:
    """Which of the open ``videos`` shows the footage the masks of a Labels layer were made on.

    The layer's recorded video (``provenance["video"]`` of its ``metadata["ecoseg"]``) is
    looked for first by path: as recorded, or where the reader finds it for the layer's store
    (relative to the store, or beside it: :func:`ecoseg._store_video.find_video`); then, when a
    sha256 is recorded, by content (a copy under another name; :func:`video_warning`, whose
    sha256 of a large file is computed once and cached). A layer that records no video fits
    the one video when exactly one is given, and none of several.

    Parameters
    ----------
    meta : dict
        The Labels layer's ``metadata["ecoseg"]`` (``provenance`` and ``store``).
    videos : sequence of (str, str)
        ``(layer name, video file or image folder)`` of the open video layers whose frames
        have the masks' size, in layer order.

    Returns
    -------
    str or None
        The name of the first video layer that shows the masks' video, or ``None``.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> d = tempfile.mkdtemp()
    >>> a = ecoseg.synth(d + "/a", frames=2, size=(64, 48), seed=1)
    >>> b = ecoseg.synth(d + "/b", frames=2, size=(64, 48), seed=2)
    >>> made = ecoseg.open_masks(a.truth).attrs["provenance"]
    >>> meta = {"store": str(a.truth), "provenance": made}
    >>> matching_video(meta, [("b", str(b.video)), ("a", str(a.video))])
    'a'
    >>> matching_video(meta, [("b", str(b.video))]) is None
    True
    >>> drawn = {"store": "drawn.zarr"}  # masks that record no video
    >>> matching_video(drawn, [("b", str(b.video))]), matching_video(drawn, [("a", ""), ("b", "")])
    ('b', None)
    """
    from ecoseg._store_video import find_video

    recorded = (meta.get("provenance") or {}).get("video")
    recorded = dict(recorded) if isinstance(recorded, Mapping) else {}
    made, sha = recorded.get("path"), recorded.get("sha256")
    if not made and not sha:
        return videos[0][0] if len(videos) == 1 else None
    store = meta.get("store")
    paths = [str(made)] if made else []
    found = find_video(made, store) if made and store else None
    if found is not None:
        paths.append(str(found))
    for name, video in videos:  # every path first: a match by content reads the file
        if any(same_location(p, video) for p in paths):
            return name
    if sha:
        for name, video in videos:
            if _same_content(video, recorded, str(store)):
                return name
    return None


def missing_video(meta: Mapping[str, Any]) -> str | None:
    """The warning for a store opened without its video: the one it records is not found.

    Parameters
    ----------
    meta : dict
        The store's Labels layer ``metadata["ecoseg"]`` (``provenance`` and ``store``).

    Returns
    -------
    str or None
        One line naming the video and the store; ``None`` when the store records no video
        path (masks drawn or imported without one: nothing to look for).

    Examples
    --------
    >>> meta = {"store": "reef/T1.zarr", "provenance": {"video": {"path": "/reef/T1.mp4"}}}
    >>> print(missing_video(meta))
    /reef/T1.mp4, the video reef/T1.zarr was made from, is not found (not at that path, nor at
    reef/T1.mp4, nor in a folder moved whole with the store): its masks open without it, and no
    video already open in the viewer is checked against them; open the video to see them on
    their own footage
    >>> missing_video({"store": "drawn.zarr", "provenance": {}}) is None
    True
    """
    from ecoseg._store_video import video_looked_in

    recorded = (meta.get("provenance") or {}).get("video")
    made = recorded.get("path") if isinstance(recorded, Mapping) else None
    if not made:
        return None
    store = meta.get("store")
    looked = video_looked_in(made, store) if store else "not at that path"
    return (
        f"{made}, the video {store or 'the store'} was made from, is not found ({looked}): its "
        "masks open without it, and no video already open in the viewer is checked against "
        "them; open the video to see them on their own footage"
    )


def video_to_open(meta: Mapping[str, Any], fits: int = 0) -> str:
    """What to say when no open video layer shows the masks' video (:func:`matching_video`).

    Parameters
    ----------
    meta : dict
        The Labels layer's ``metadata["ecoseg"]``.
    fits : int
        How many open video layers have the masks' frame size (matters when the layer records
        no video).

    Examples
    --------
    >>> meta = {"store": "T1.zarr", "provenance": {"video": {"path": "/reef/T1.mp4"}}}
    >>> video_to_open(meta)
    'open /reef/T1.mp4, the video T1.zarr was made on (no open video layer shows it)'
    >>> video_to_open({"store": "drawn.zarr"}, fits=2)
    'drawn.zarr records no video and 2 open videos have its frame size: close all but its own'
    """
    from ecoseg._store_video import find_video

    recorded = (meta.get("provenance") or {}).get("video")
    made = recorded.get("path") if isinstance(recorded, Mapping) else None
    store = meta.get("store") or "the store"
    if made:
        found = find_video(made, store) if meta.get("store") else None
        return f"open {found or made}, the video {store} was made on (no open video layer shows it)"
    if isinstance(recorded, Mapping) and recorded.get("sha256"):
        return f"open the video {store} was made on (its path is not recorded)"
    if fits > 1:
        return (
            f"{store} records no video and {fits} open videos have its frame size: "
            "close all but its own"
        )
    return f"open the video {store} was made on (it records none)"


def _same_video(video: str, recorded: Mapping[str, Any]) -> bool:
    made = recorded.get("path")
    if made and same_location(str(made), video):
        return True
    if recorded.get("sha256"):
        return _same_content(video, recorded)
    return not made


def _same_content(video: str, recorded: Mapping[str, Any], store: str = "") -> bool:
    """Whether ``video`` is the recorded one by size, frame count and sha256
    (:func:`video_warning`; the sha256 of a large file is computed once and cached)."""
    from ecoseg.provenance import VideoSource

    return video_warning(video, store, VideoSource.from_dict(dict(recorded))) is None


def _warn(message: str) -> None:
    from napari.utils.notifications import show_warning

    show_warning(f"ecoseg: {message}")


def check_video_later(
    video: str,
    store: str,
    recorded: Any,
    *,
    layer: str | None = None,
    warn: Callable[[str], Any] = _warn,
) -> threading.Thread:
    """Check ``video`` against ``store``'s record in a background thread; warn if it is not.

    Parameters
    ----------
    video, store, recorded, layer
        As :func:`video_warning`.
    warn : callable
        Called with the message when the video is not the store's (default: a napari
        warning notification, which napari shows from any thread).

    Returns
    -------
    threading.Thread
        The started (daemon) thread, named :data:`THREAD_NAME`.

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> from ecoseg.store import MaskStore
    >>> made = MaskStore.open(sample().truth).provenance_record.video
    >>> said = []
    >>> check_video_later(str(sample().video), "truth.zarr", made, warn=said.append).join()
    >>> said
    []
    """

    def run() -> None:
        message = video_warning(video, store, recorded, layer=layer)
        if message is not None:
            warn(message)

    thread = threading.Thread(target=run, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread


def note_missing_video(
    meta: Mapping[str, Any], *, warn: Callable[[str], Any] = _warn
) -> str | None:
    """Warn that a store opened without its video (:func:`missing_video`); returns the message.

    Parameters
    ----------
    meta : dict
        The store's Labels layer ``metadata["ecoseg"]``.
    warn : callable
        Called with the message (default: a napari warning notification).

    Examples
    --------
    >>> said = []
    >>> _ = note_missing_video({"store": "T1.zarr", "provenance": {"video": {"path": "T1.mp4"}}},
    ...                        warn=said.append)
    >>> said[0].split(" (")[0]
    'T1.mp4, the video T1.zarr was made from, is not found'
    """
    message = missing_video(meta)
    if message is not None:
        warn(message)
    return message


def edit_warning(store: Any) -> str | None:
    """The warning for a store an interrupted ``ecoseg edit`` left half written, or ``None``.

    The message is :func:`ecoseg.store.check_finished`'s (what ``measure``, ``evaluate`` and
    ``export`` refuse such a store with).

    Parameters
    ----------
    store : str, Path or MaskStore
        The store (its attributes are read now).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> edit_warning(ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48)).truth) is None
    True
    """
    from ecoseg.errors import StoreError
    from ecoseg.store import check_finished, opened_store

    with opened_store(store) as opened:
        try:
            check_finished(opened)
        except StoreError as exc:
            return str(exc)
    return None


def check_edits(store: Any, *, warn: Callable[[str], Any] = _warn) -> str | None:
    """Warn if ``store`` holds unfinished edits (:func:`edit_warning`); returns the message.

    Parameters
    ----------
    store : str, Path or MaskStore
        The store whose layers are shown.
    warn : callable
        Called with the message (default: a napari warning notification).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> said = []
    >>> check_edits(ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48)).truth,
    ...             warn=said.append), said
    (None, [])
    """
    message = edit_warning(store)
    if message is not None:
        warn(message)
    return message


def napari_remedy(message: str, remedy: str) -> str:
    """``message`` with the package's remedy for an existing output (``pass overwrite=True
    (--overwrite) to replace it``, :func:`ecoseg._paths.exists_message`) replaced by
    ``remedy``, what a napari user can do; other messages unchanged.

    Examples
    --------
    >>> napari_remedy("T1/tables/regions.csv: already exists; pass overwrite=True "
    ...               "(--overwrite) to replace it", "choose another folder")
    'T1/tables/regions.csv: already exists; choose another folder'
    >>> napari_remedy("T1.zarr: not a store", "choose another folder")
    'T1.zarr: not a store'
    """
    from ecoseg._paths import exists_message

    advice = exists_message("")  # ": already exists; pass ...": the path left out
    advice = advice[advice.index(";") :]  # "; pass overwrite=True ..."
    if message.endswith(advice):
        return message[: -len(advice)] + "; " + remedy
    return message


def napari_words(text: str, labels: Mapping[str, str]) -> str:
    """``text`` with each option the library spells for Python and the command line
    (``keyword (--flag)``, ``keyword=VALUE (--flag ...)``: :data:`ecoseg._cli.KEYWORD_OPTION`)
    named by what a napari user sees: the label of the widget control that sets it, in
    quotes (``labels``, by the option's flag), or, for an option the widget has no control for, its
    Python keyword alone; the flag, which means nothing in napari, left out. A value follows
    the label (a switch's True/False, or a placeholder such as PATH, does not); words after the
    flag stay in parentheses unless the label has them; prose before an option (``automatic
    discovery (--auto)``) stays, with the control's label in parentheses.

    The one mechanism by which the widgets show the library's errors and warnings in their own
    words (:func:`napari_remedy` first, for an output that exists).

    Examples
    --------
    >>> labels = {"--image-size": "input size", "--fast": "fast (bf16)",
    ...           "--checkpoint": "checkpoint", "--random-weights": "random weights (testing only)",
    ...           "--detect-every": "detect every", "--auto": "discover automatically"}
    >>> napari_words("image_size (--image-size) must be a multiple of 14, got 500", labels)
    '"input size" must be a multiple of 14, got 500'
    >>> napari_words("fast (--fast, bf16) is for the networks", labels)
    '"fast (bf16)" is for the networks'
    >>> napari_words("pass a checkpoint file with checkpoint=PATH (--checkpoint PATH) or build it "
    ...              "with random weights with pretrained=False (--random-weights)", labels)
    'pass a checkpoint file with "checkpoint" or build it with random weights with "random
    weights (testing only)"'
    >>> napari_words("detect_every 3 differs from detect_every=5 (--detect-every)", labels)
    'detect_every 3 differs from "detect every" 5'
    >>> napari_words("automatic discovery (--auto) needs the sam2 engine", labels)
    'automatic discovery ("discover automatically") needs the sam2 engine'
    >>> napari_words("backward=False (--forward-only) applies to the sam2 engine", labels)
    'backward=False applies to the sam2 engine'
    >>> napari_words("fast (--fast, bf16) is for the networks", {})
    'fast (bf16) is for the networks'
    """
    from ecoseg._cli import KEYWORD_OPTION, is_keyword

    def option(match) -> str:
        keyword, value, flag, metavar, more = match.groups()
        label = labels.get(flag)
        if not is_keyword(keyword, value, flag):  # prose, not a keyword
            return keyword if label is None else f'{keyword} ("{label}")'
        if label is None:
            said = keyword if value is None else f"{keyword}={value}"
        else:
            shown = value is not None and value not in ("True", "False") and not metavar
            said = f'"{label}" {value}' if shown else f'"{label}"'
        return said + (f" ({more})" if more and (label is None or more not in label) else "")

    return KEYWORD_OPTION.sub(option, text)

"""One segmentation job: the task that ``ecoseg batch`` and ``ecoseg study`` both run.

A :class:`Job` names a video, its store and the keyword arguments of
:func:`ecoseg.segment`; :func:`run_job` runs it (here, in a process pool or as a Dask task) and
:func:`store_status` is the one check of whether a store is missing, partial or complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, NamedTuple
from urllib.parse import urlsplit

from ecoseg.batch.urls import file_name, is_url, local_path, redact_text, redact_url
from ecoseg.errors import Cancelled, EcosegError, VideoError
from ecoseg.provenance import VideoSource

__all__ = [
    "ETAG_KEYS",
    "STORE_STATES",
    "URL_BYTES",
    "URL_ETAG",
    "Job",
    "StoreStatus",
    "UnreadableVideo",
    "UrlVersion",
    "probe_url",
    "run_job",
    "say_warnings",
    "store_status",
]

#: The key of a URL video's size in bytes in its store's provenance (``video``), recorded
#: by :func:`run_job` after fetching it, so a later run can tell cheaply that the video at
#: that URL changed (:func:`~ecoseg.batch.names.video_check`).
URL_BYTES = "bytes"

#: The key of a URL video's ETag in its store's provenance (``video``): the storage's tag of
#: the version of the file it fetched (:data:`ETAG_KEYS`), recorded by :func:`run_job` where
#: the storage gives one, so a later run can tell that another file of the same size was put
#: at that URL (:meth:`UrlVersion.changed`).
URL_ETAG = "etag"

#: The keys of an fsspec ``info()`` that hold a file's ETag, the first one present taken:
#: HTTP's ``ETag`` header and S3's ``ETag`` (s3fs; the MD5 of the bytes of an object put whole),
#: GCS's ``md5Hash`` (gcsfs: the MD5 of the bytes; a composite object has none, then its
#: ``etag``), Azure's ``etag`` (adlfs). Times (``Last-Modified``, S3's ``LastModified``, GCS's
#: ``updated``, Azure's ``last_modified``) and upload counters (S3's ``VersionId``, GCS's
#: ``generation``) are not used: they change when the very same bytes are uploaded again or the
#: file is touched, which would report a video unchanged as replaced.
ETAG_KEYS = ("ETag", "md5Hash", "etag")

#: Values of :attr:`StoreStatus.state`.
STORE_STATES = ("missing", "partial", "complete")


class UnreadableVideo(VideoError):
    """A video the job fetched (or found) but could not decode: truncated, corrupt, not a video,
    or not the video its store was made from. A new attempt reads the same bytes, so
    :func:`~ecoseg.batch.cluster.run_tasks` does not retry it; a video that cannot be fetched
    (a plain :class:`~ecoseg.errors.VideoError`) is retried.

    Examples
    --------
    >>> from ecoseg.batch.cluster import retried
    >>> retried(UnreadableVideo("GX010001.MP4: not a readable video")), retried(VideoError("x"))
    (False, True)
    """


@dataclass(frozen=True)
class Job:
    """One video to segment into one store; its repr (in Dask logs) shows no credentials.

    Attributes
    ----------
    name : str
        The video's name (names the task and, for a URL video, the temporary local copy).
    video : str or Path
        Local path, ``file://`` URL or fsspec URL of the video.
    store : str or Path
        Local path or URL of the mask store.
    segment : dict
        Keyword arguments of :func:`ecoseg.segment` (``prompts`` is the prompt file, if any;
        a ``cancel`` event also keeps :func:`run_job` from starting once it is set).
    resume : bool
        Continue a partial store, and skip a complete one (default). ``False`` makes the store
        anew.
    overwrite : bool
        Replace an existing store (only with ``resume=False``).
    verify : bool
        Do not segment: check a URL video against its complete store by its bytes (its ETag
        changed since, its size did not: :meth:`UrlVersion.retagged`). :func:`run_job` fetches
        it once and compares its SHA-256 with the one the store records: the same bytes give
        ``"verified"`` (the store's recorded ETag, :data:`URL_ETAG`, updated to the new one);
        other bytes fail as :class:`UnreadableVideo` (not retried) naming both SHA-256s.

    Examples
    --------
    >>> Job("T1", "s3://KEY:SECRET@bucket/T1.mp4", "out/T1.zarr")
    Job('T1', video='s3://bucket/T1.mp4')
    """

    name: str
    video: str
    store: str
    segment: dict = field(default_factory=dict)
    resume: bool = True
    overwrite: bool = False
    verify: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "video", os.fspath(self.video))
        object.__setattr__(self, "store", os.fspath(self.store))

    def __repr__(self) -> str:
        return f"Job({self.name!r}, video={redact_url(self.video)!r})"


@dataclass(frozen=True)
class StoreStatus:
    """How far a store is: ``state`` in :data:`STORE_STATES`, committed ``frames``, the
    file name of the ``video`` it was made from (``None`` if missing or not recorded), and
    the store's ``record`` (its :class:`~ecoseg.provenance.Provenance`, ``None`` if missing)."""

    state: str
    frames: int = 0
    video: str | None = None
    record: Any = field(default=None, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        """Whether the store holds every frame of its video."""
        return self.state == "complete"


def store_status(location: str | Path) -> StoreStatus:
    """Whether the store at ``location`` is missing, partial or complete.

    Parameters
    ----------
    location : str or Path
        A local path or URL.

    Returns
    -------
    StoreStatus

    Raises
    ------
    StoreError
        Something is there that is not a mask store.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> store_status(clip.truth)
    StoreStatus(state='complete', frames=3, video='video.mp4')
    >>> store_status(tempfile.mkdtemp() + "/none.zarr").state
    'missing'
    """
    from ecoseg.store import Location, MaskStore

    location = str(location)
    if not Location(location).exists():
        return StoreStatus("missing")
    store = MaskStore.open(location)
    try:
        record = store.provenance_record
        video = record.video
        source = video.path if video is not None else None
        state = "complete" if store.complete else "partial"
        name = None if source is None else file_name(source)
        return StoreStatus(state, store.n_frames, name, record)
    finally:
        store.close()


def run_job(
    job: Job, say_now: Callable[[str, type[Warning]], None] | None = None
) -> dict[str, Any]:
    """Segment one video into its store (module level: workers import it by name).

    With ``job.resume`` a complete store is skipped and a partial one continued; with
    ``job.verify`` the URL video is checked against its complete store by its bytes instead
    (see :class:`Job`).

    Parameters
    ----------
    job : Job
    say_now : callable, optional
        Given a task run in the caller's thread (a study's videos one after another): called
        with each warning, naming the video, as it is issued (:func:`ecoseg._warn.say` says
        it), so that it comes while the video is segmented; none is kept then.

    Returns
    -------
    dict
        ``{"status": "done" | "skipped" | "verified", "frames": int, "seconds": float,
        "warnings": list}``; ``"verified"`` (``job.verify``, the same bytes) also holds the
        ETag the store recorded (``"was"``) and the one it records now (``"etag"``).
        ``"warnings"`` are the warnings of the run (ecoseg's, and other libraries' such as
        numpy's), not issued where it ran (a worker process or thread) but kept
        (:func:`ecoseg._warn.recorded`) as ``(message, category)``, each message naming the
        video (:func:`say_warnings` issues them); a failed run's go with its error, as its
        ``ecoseg_warnings`` (they often tell why).

    Raises
    ------
    EcosegError
        Whatever the segmentation raised (:class:`~ecoseg.errors.Cancelled` where its
        ``cancel`` stopped it, or was set before it started); a message that named a URL with
        credentials is raised again without them. With ``job.verify``:
        :class:`UnreadableVideo` for other bytes, :class:`~ecoseg.errors.VideoError` for a
        URL that cannot be fetched.

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(64, 48))
    >>> job = Job("clip", clip.video, os.path.join(tempfile.mkdtemp(), "clip.zarr"),
    ...           {"engine": "classical", "progress": False})
    >>> run_job(job)["status"], run_job(job)["status"]
    ('done', 'skipped')
    """
    from ecoseg._warn import recorded

    read: list[str] = []  # the file segment() read: the video, or a URL's temporary copy

    def now(message: Any, category: type[Warning]) -> None:
        say_now(_naming(job, read, message), category)

    with recorded(None if say_now is None else now) as kept:
        try:
            result = _run_job(job, read)
        except BaseException as exc:
            if kept:  # (they often tell why it failed: they go with the error)
                exc.ecoseg_warnings = [(_naming(job, read, m), c) for m, c in kept]
            raise
    result["warnings"] = [(_naming(job, read, message), category) for message, category in kept]
    return result


def say_warnings(outcome: Mapping[str, Any] | BaseException, said: set | None = None) -> None:
    """Issue, in this process and thread, the warnings :func:`run_job` kept (each names its
    video; :func:`ecoseg._warn.say`): the ``ecoseg`` command prints each as one line, another
    library's too.

    Parameters
    ----------
    outcome : dict or BaseException
        What :func:`run_job` returned, or the error it raised (a failed run's warnings, which
        often tell why it failed, go with its error as ``ecoseg_warnings``).
    said : set, optional
        The ``(message, category)`` already said of this video (by an earlier attempt):
        those are not said again, and those said now are added.

    Examples
    --------
    >>> import warnings
    >>> error = OSError("a.zarr: disk full")
    >>> error.ecoseg_warnings = [("a.mp4: the camera moved too fast", UserWarning)]
    >>> said = set()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     say_warnings(error, said)
    ...     say_warnings(error, said)  # (a retry that warned the same)
    >>> [str(w.message) for w in caught]
    ['a.mp4: the camera moved too fast']
    """
    from ecoseg._warn import say

    if isinstance(outcome, BaseException):
        kept = getattr(outcome, "ecoseg_warnings", ())
    else:
        kept = outcome.get("warnings", ())
    for message, category in kept:
        if said is not None:
            if (message, category) in said:
                continue
            said.add((message, category))
        say(message, category)


def _naming(job: Job, read: list[str], message: Any) -> str:
    """A warning of ``job``'s run as its caller says it: naming the video (a URL's, not the
    temporary copy ``read``), without credentials."""
    video = redact_url(job.video)
    text = str(message)
    for path in read:
        if path != job.video:
            text = text.replace(path, video)
    text = redact_text(text)
    return text if video in text else f"{video}: {text}"


def _run_job(job: Job, read: list[str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        _check_not_cancelled(job)
        if job.verify:
            return _verify(job, t0)
        resume = job.resume
        if job.resume:
            status = store_status(job.store)
            if status.complete:
                return {"status": "skipped", "frames": status.frames, "seconds": 0.0}
            # nothing to resume: a new store
            resume = status.state != "missing"
        _segment(job, resume, read)
        frames = store_status(job.store).frames
    except BaseException as exc:
        _reraise_redacted(exc)
        if isinstance(exc, EcosegError):  # its message says it all; a library's error behind
            exc.__cause__ = exc.__context__ = None  # it (zarr's) may not cross to the client
        raise
    return {"status": "done", "frames": frames, "seconds": time.perf_counter() - t0}


def _check_not_cancelled(job: Job) -> None:
    """Start no video once the run's ``cancel`` (``job.segment["cancel"]``) is set."""
    cancel = job.segment.get("cancel")
    if cancel is None:
        return
    from ecoseg.engine._runtime import is_cancelled

    if is_cancelled(cancel):
        raise Cancelled(f"{redact_url(job.store)}: cancelled before this video started")


def _segment(job: Job, resume: bool, read: list[str]) -> None:
    """Segment ``job``'s video; the path of the file read is appended to ``read``."""
    from ecoseg.engine import segment

    kwargs = dict(job.segment)
    prompts = kwargs.pop("prompts", None)
    kwargs.update(out=job.store, resume=resume, overwrite=job.overwrite)
    if not is_url(job.video):
        read.append(local_path(job.video))
        _decode(segment, read[-1], prompts, kwargs, job.video)
        return
    folder = Path(tempfile.mkdtemp(prefix="ecoseg-batch-"))
    try:
        local = folder / (job.name + Path(urlsplit(job.video).path).suffix)
        read.append(str(local))
        etag = _fetch(job.video, local)
        _decode(segment, str(local), prompts, kwargs, job.video)
        from ecoseg.store import MaskStore

        with MaskStore.open(job.store, mode="a") as store:  # the URL, not the temporary copy
            video = store.provenance_record.video or VideoSource()
            # and its size and ETag, which a later run can check cheaply (video_check: a probe)
            extra = {**_tagged(video.extra, etag), URL_BYTES: local.stat().st_size}
            video = replace(video, path=redact_url(job.video), extra=extra)
            store.set_provenance(video=video.to_dict())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _verify(job: Job, t0: float) -> dict[str, Any]:
    """:func:`run_job` of a ``job.verify`` job: the URL video streamed once through SHA-256
    (nothing written to disk) and compared with the sha256 its complete store records."""
    from ecoseg._hashing import sha256_file
    from ecoseg.store import MaskStore

    status = store_status(job.store)
    made = getattr(status.record, "video", None)
    wanted = getattr(made, "sha256", None)
    if not status.complete or not wanted:  # (the campaign sends only stores that have both)
        raise EcosegError(
            f"{redact_url(job.store)}: no complete store recording its video's sha256 to check "
            "the video against"
        )
    was = made.extra.get(URL_ETAG)
    with _opened(job.video) as (src, etag):
        digest = sha256_file(src)
    if digest != wanted:
        tags = f"ETag {etag} now, {was} then, and " if etag and was else ""
        raise UnreadableVideo(
            f"{redact_url(job.store)}: the store was made from another "
            f"{file_name(job.video)} (the video at that URL has {tags}other bytes: SHA-256 "
            f"{digest} now, {wanted} when the store was made); move the store away to segment "
            "this video anew"
        )
    with MaskStore.open(job.store, mode="a") as store:  # the same bytes: its new tag recorded
        video = store.provenance_record.video
        store.set_provenance(video=replace(video, extra=_tagged(video.extra, etag)).to_dict())
    seconds = time.perf_counter() - t0
    return {
        "status": "verified",
        "frames": status.frames,
        "seconds": seconds,
        "was": was,
        "etag": etag,
    }


def _tagged(extra: Mapping[str, Any], etag: str | None) -> dict[str, Any]:
    """A video's provenance extras with ``etag`` as its :data:`URL_ETAG` (none recorded
    where the storage gave none, not the one of another fetch)."""
    out = {k: v for k, v in extra.items() if k != URL_ETAG}
    if etag is not None:
        out[URL_ETAG] = etag
    return out


def _decode(segment, path: str, prompts, kwargs: dict, video: str) -> None:
    """``segment(path, prompts, **kwargs)``; a video it cannot read fails as
    :class:`UnreadableVideo` (not retried), naming ``video`` (the URL, not its local copy)."""
    try:
        segment(path, prompts, **kwargs)
    except VideoError as exc:
        text = str(exc) if path == video else str(exc).replace(path, redact_url(video))
        raise UnreadableVideo(text) from None


def _fetch(url: str, local: Path) -> str | None:
    """``url`` copied to ``local``; its ETag as the storage gave it on opening (before the
    copy: a file put there during the copy is then seen as changed by the next probe)."""
    with _opened(url) as (src, etag), open(local, "wb") as dst:
        shutil.copyfileobj(src, dst, 2**22)
    return etag


class UrlVersion(NamedTuple):
    """Which file a URL holds, as its storage says when it is opened (nothing downloaded):
    its size in bytes (an HTTP ``Content-Length``, an S3 object's size) and its ETag
    (:data:`ETAG_KEYS`), each ``None`` where the storage gives none.

    Examples
    --------
    >>> now = UrlVersion(bytes=8, etag='"5d41"')
    >>> now.changed({"bytes": 8, "etag": '"5d41"'}) is None
    True
    >>> now.changed({"bytes": 8, "etag": '"a3f1"'})
    'the video at that URL has ETag "5d41" now, "a3f1" when the store was made: it changed since'
    >>> now.changed({"bytes": 8, "etag": 'W/"5d41"'}) is None  # (a weak tag: the same)
    True
    >>> now.changed({"bytes": 8}) is None  # (a store of an older ecoseg: the size alone)
    True
    """

    bytes: int | None
    etag: str | None

    def changed(self, made: Mapping[str, Any]) -> str | None:
        """How the file differs from the one a store was made from, by what the store
        recorded of it (its provenance ``video`` entry: :data:`URL_BYTES`,
        :data:`URL_ETAG`), ``None`` where nothing recorded differs. A size or an ETag missing
        on either side (a store of an older ecoseg, a storage that gives none) is not
        compared; ETags are compared as HTTP's weak comparison does (``W/"x"`` is ``"x"``)."""
        size, etag = made.get(URL_BYTES), made.get(URL_ETAG)
        if self._other_size(made):
            return (
                f"the video at that URL has {self.bytes} bytes now, {size} when the store was "
                "made: it changed since"
            )
        if isinstance(self.etag, str) and isinstance(etag, str) and _weak(self.etag) != _weak(etag):
            return (
                f"the video at that URL has ETag {self.etag} now, {etag} when the store was "
                "made: it changed since"
            )
        return None

    def retagged(self, made: Mapping[str, Any]) -> bool:
        """Whether only the ETag tells the file from the one a store was made from: both
        recorded and different (:meth:`changed`), the size the same (or unknown on a side).
        Storages whose ETag changes with every write (Azure; nginx and Apache, whose ETag is
        the file's time and size) give such a file for the very same bytes written again: its
        bytes can tell (``ecoseg batch`` fetches it once: :attr:`Job.verify`).

        Examples
        --------
        >>> now = UrlVersion(bytes=8, etag='"5d41"')
        >>> now.retagged({"bytes": 8, "etag": '"a3f1"'})  # (the same size: fetched to tell)
        True
        >>> now.retagged({"bytes": 9, "etag": '"a3f1"'})  # (another size: another file)
        False
        >>> now.retagged({"bytes": 8, "etag": 'W/"5d41"'}), now.retagged({"bytes": 8})
        (False, False)
        """
        return self.changed(made) is not None and not self._other_size(made)

    def _other_size(self, made: Mapping[str, Any]) -> bool:
        """Whether both sizes are known and differ."""
        size = made.get(URL_BYTES)
        return _is_int(self.bytes) and _is_int(size) and self.bytes != size


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _weak(etag: str) -> str:
    """An ETag without its weak mark (``W/``)."""
    etag = etag.strip()
    return etag[2:] if etag.startswith("W/") else etag


def _etag(info: Any) -> str | None:
    """The ETag in an fsspec ``info()`` (:data:`ETAG_KEYS`), ``None`` where it holds none."""
    if isinstance(info, Mapping):
        for key in ETAG_KEYS:
            value = info.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


@contextmanager
def _opened(url: str) -> Iterator[tuple[IO[bytes], str | None]]:
    """``url`` opened for reading, with its ETag as the storage gives it: from the file's own
    details where the opening fetched them (s3fs, gcsfs, adlfs), otherwise from ``info()``.
    Over HTTP the one ``HEAD`` of ``info()`` gives both: its size is handed to the opening,
    which then makes none of its own (fsspec's http file keeps only the size of the ``HEAD``
    it makes), unless the server refuses ranges (the opening then streams, as it chooses)."""
    import fsspec

    with _fetching(url):
        opened = fsspec.open(url, "rb")
        fs, path = opened.fs, opened.path
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        if {"http", "https"} & set(protocols):
            info = fs.info(path)
            size = info.get("size") if info.get("partial", True) else None
            with fs.open(path, "rb", **({"size": size} if size else {})) as src:
                yield src, _etag(info)
            return
        with opened as src:
            etag = _etag(getattr(src, "details", None))
            if etag is None:
                etag = _etag(fs.info(path))
            yield src, etag


def probe_url(url: str) -> UrlVersion:
    """Check cheaply that a video URL can still be fetched: it is opened and its first bytes
    read (not the whole video, nor decoded), as a run fetching it would.

    Parameters
    ----------
    url : str
        An fsspec URL (``s3://``, ``https://``, ``memory://`` ...).

    Returns
    -------
    UrlVersion
        The file's size in bytes and its ETag, as the storage gives them when the file is
        opened, each ``None`` where it gives none.

    Raises
    ------
    VideoError
        One line naming the URL (without credentials): no such file, an empty file, or why it
        cannot be fetched (a host that does not answer, access refused).

    Examples
    --------
    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe("/probe-doc/T1.mp4", b"\\x00\\x00\\x00\\x18ftyp")
    >>> probe_url("memory://probe-doc/T1.mp4")
    UrlVersion(bytes=8, etag=None)
    >>> probe_url("memory://probe-doc/T2.mp4")
    Traceback (most recent call last):
    ecoseg.errors.VideoError: memory://probe-doc/T2.mp4: no such file or directory
    """
    with _opened(url) as (src, etag):
        if not src.read(16):
            raise VideoError(f"{redact_url(url)}: empty file (0 bytes), not a video")
        size = getattr(src, "size", None)
    return UrlVersion(size if _is_int(size) else None, etag)


@contextmanager
def _fetching(url: str) -> Iterator[None]:
    """Errors of fetching ``url`` as one-line :class:`VideoError` naming it (redacted): those
    of :func:`_fetch_errors`; anything else (a bug) is raised as it is."""
    try:
        yield
    except VideoError:
        raise
    except _fetch_errors() as exc:
        cause: BaseException = exc  # (fsspec's http says 'not found' for a host that does not
        while isinstance(cause, FileNotFoundError) and cause.__cause__ is not None:  # answer)
            cause = cause.__cause__
        if isinstance(cause, FileNotFoundError) or getattr(cause, "status", None) in (404, 410):
            from ecoseg.io._common import missing_video  # (the io package imports PyAV)

            raise VideoError(missing_video(redact_url(url))) from None
        why = " ".join(redact_text(str(cause)).split()) or type(cause).__name__
        raise VideoError(f"{redact_url(url)}: cannot fetch the video ({why})") from None


def _fetch_errors() -> tuple[type[BaseException], ...]:
    """The errors that fetching a URL raises when the storage, the network or the URL is at
    fault, not the code: ``OSError`` (timeouts, refused connections, fsspec's own), ``ValueError``
    (a URL fsspec cannot use), ``ImportError`` (a storage library not installed), and the base
    errors of the client libraries fsspec's storages use, where this process has imported them
    (an error of one that is not imported cannot have been raised): aiohttp's
    ``ClientError`` (http, s3 through aiobotocore), botocore's ``BotoCoreError`` and
    ``ClientError``."""
    import sys

    errors: list[type[BaseException]] = [OSError, ValueError, ImportError]
    for module, names in (
        ("aiohttp", ("ClientError",)),
        ("botocore.exceptions", ("BotoCoreError", "ClientError")),
    ):
        loaded = sys.modules.get(module)
        errors += [getattr(loaded, n) for n in names if hasattr(loaded, n)]
    return tuple(errors)


def _reraise_redacted(exc: BaseException) -> None:
    """Raise a copy of ``exc`` without credentials in its message, if it had any."""
    text = str(exc)
    clean = redact_text(text)
    if clean == text or not isinstance(exc, Exception):
        return
    cls = type(exc) if isinstance(exc, EcosegError) else EcosegError
    if cls is EcosegError:
        clean = f"{type(exc).__name__}: {clean}"
    try:
        new = cls(clean)
    except Exception:  # noqa: BLE001 - an exception class with another signature
        new = EcosegError(clean)
    raise new from None

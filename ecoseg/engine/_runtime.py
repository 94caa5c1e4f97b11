"""Runtime helpers shared by the engines: video adapters, prefetching, autocast, encoding,
device-to-host results and cancellation.

Used by the SAM 2 streaming session (:mod:`ecoseg.engine.session`), automatic discovery
(:mod:`ecoseg.engine.discovery`) and the classical motion tracker
(:mod:`ecoseg.engine.classical`). torch is imported inside the functions that need it, so the
classical engine (video adapters, :func:`prefetch`, :func:`is_cancelled`) never imports it.

Exports
-------
ArrayFrame, ArrayVideo, as_video, frames_in_order
    Arrays of frames with the part of the VideoReader API the engines use; frames in
    tracking order (backwards decoded forwards in small chunks).
Prefetcher, prefetch
    An iterator run in a daemon thread a bounded number of items ahead.
bf16_autocast, preprocess_frame, FrameEncoder
    bfloat16 autocast, frame preprocessing (as the official video loader), and the frame
    encoder that keeps the features of the last frame only.
label_index, fetch, PendingResult, OUTPUTS
    Per-frame results resized and resolved into labels on the device, copied to the host
    without stalling the GPU.
is_cancelled, until_cancelled
    Whether a ``threading.Event`` or callable asks a run to stop (:mod:`ecoseg._cancel`'s,
    shared with the analysis stages); a run's results, then
    :class:`~ecoseg.errors.Cancelled` where they stopped early because of it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ecoseg._cancel import is_cancelled  # noqa: F401 - the engines' own name for it
from ecoseg._checks import frame_range, short_repr
from ecoseg._warn import warn
from ecoseg.engine.results import FrameResult
from ecoseg.errors import Cancelled
from ecoseg.io.folder import DEFAULT_FPS
from ecoseg.sam2.variants import IMAGENET_MEAN, IMAGENET_STD

if TYPE_CHECKING:
    import torch

    from ecoseg.engine.tracker_state import TrackedFrame
    from ecoseg.sam2.model import FrameFeatures, SAM2Model

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "OUTPUTS",
    "REVERSE_CHUNK",
    "ArrayFrame",
    "ArrayVideo",
    "FrameEncoder",
    "PendingResult",
    "Prefetcher",
    "SlowBf16Warning",
    "as_video",
    "bf16_autocast",
    "cpu_has_bf16",
    "fast_bf16",
    "fetch",
    "frames_in_order",
    "is_cancelled",
    "until_cancelled",
    "label_index",
    "prefetch",
    "preprocess_frame",
]

#: Frames decoded per chunk when reading a video backwards.
REVERSE_CHUNK = 16
#: What a frame result may carry: mask logits, or label images resolved on the device.
OUTPUTS = ("logits", "labels")


# ---------------------------------------------------------------------------------------
# video input
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArrayFrame:
    """One frame of an :class:`ArrayVideo`: ``index``, ``time`` (s) and ``image``."""

    index: int
    time: float
    image: np.ndarray


class ArrayVideo:
    """A sequence of (H, W, 3) uint8 frames with the part of the VideoReader API we use.

    Examples
    --------
    >>> v = ArrayVideo([np.zeros((4, 6, 3), np.uint8)] * 3, fps=10.0)
    >>> len(v), (v.height, v.width), v.read(2).time
    (3, (4, 6), 0.2)
    """

    def __init__(self, frames: Sequence[np.ndarray], fps: float = DEFAULT_FPS):
        self._frames = frames
        if len(frames) == 0:
            raise ValueError("the video has no frames")
        first = np.asarray(frames[0])
        if first.ndim != 3 or first.shape[2] != 3:
            raise ValueError(f"frames must be (H, W, 3) RGB arrays, got shape {first.shape}")
        self.height, self.width = first.shape[:2]
        self.fps = fps

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self)) / self.fps

    def read(self, index: int) -> ArrayFrame:
        image = np.asarray(self._frames[index])
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame {index} is {image.shape[:2]}, not {(self.height, self.width)}")
        return ArrayFrame(index, index / self.fps, image)

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[ArrayFrame]:
        """Frames ``start..stop`` by the frame-range rule of the video readers (slice
        semantics, whole numbers of any type: :func:`~ecoseg._checks.frame_range`).

        Examples
        --------
        >>> v = ArrayVideo([np.zeros((4, 6, 3), np.uint8)] * 5)
        >>> [f.index for f in v.frames(-2)], [f.index for f in v.frames(3.0, 99)]
        ([3, 4], [3, 4])
        """
        first, last = frame_range(start, stop, len(self))
        return (self.read(i) for i in range(first, last))

    def __iter__(self) -> Iterator[ArrayFrame]:
        return self.frames()


def as_video(video):
    """``video`` itself when it reads like a VideoReader, a path (video file or image folder)
    opened with :func:`ecoseg.open_video`, else an :class:`ArrayVideo` of its frames.

    Raises
    ------
    ecoseg.errors.VideoError
        A path :func:`ecoseg.open_video` refuses (missing, unreadable).
    TypeError
        ``video`` is none of these (a number, a dict), in one line naming it.

    Examples
    --------
    >>> type(as_video([np.zeros((4, 6, 3), np.uint8)])).__name__
    'ArrayVideo'
    >>> as_video(3)
    Traceback (most recent call last):
    ...
    TypeError: video must be a path, an ecoseg.open_video reader or a sequence of (H, W, 3) \
uint8 frames, got 3
    """
    if hasattr(video, "frames") and hasattr(video, "read") and hasattr(video, "width"):
        return video
    if isinstance(video, str | os.PathLike):  # as ecoseg.segment takes it
        from ecoseg.io.video import open_video

        return open_video(video)
    if not (hasattr(video, "__len__") and hasattr(video, "__getitem__")):
        raise TypeError(
            "video must be a path, an ecoseg.open_video reader or a sequence of (H, W, 3) "
            f"uint8 frames, got {short_repr(video)}"
        )
    return ArrayVideo(video)


def frames_in_order(video, start: int, stop: int, reverse: bool) -> Iterator[Any]:
    """Frames ``start..stop`` (exclusive; backwards decoded forward in small chunks).

    Examples
    --------
    >>> v = ArrayVideo([np.zeros((4, 6, 3), np.uint8)] * 5)
    >>> [f.index for f in frames_in_order(v, 3, -1, reverse=True)]
    [3, 2, 1, 0]
    """
    if not reverse:
        yield from video.frames(start, stop)
        return
    hi = start + 1
    while hi > stop + 1:
        lo = max(stop + 1, hi - REVERSE_CHUNK)
        chunk = list(video.frames(lo, hi))
        yield from reversed(chunk)
        hi = lo


# ---------------------------------------------------------------------------------------
# prefetching in a thread
# ---------------------------------------------------------------------------------------
_ITEM, _END, _ERROR = range(3)


class Prefetcher:
    """Run an iterator in a daemon thread, handing its items over through a bounded queue.

    Exceptions raised in the thread are re-raised by ``next``; :meth:`close` stops the thread.
    With ``maxsize`` 0 there is no thread: each ``next`` runs the iterator in the caller's
    thread (nothing is computed ahead; a benchmark then charges the work to the right step).

    Parameters
    ----------
    make_iter : callable
        Returns the iterator to run (called in the thread).
    maxsize : int
        Items computed ahead at most (0: none, no thread).
    name : str
        Thread name.

    Examples
    --------
    >>> worker = Prefetcher(lambda: iter("ab"), 2, "example")
    >>> list(worker)
    ['a', 'b']
    >>> worker.close()
    >>> inline = Prefetcher(lambda: iter("ab"), 0, "example")
    >>> list(inline), inline.thread is None
    (['a', 'b'], True)
    """

    def __init__(self, make_iter: Callable[[], Iterator[Any]], maxsize: int, name: str):
        self._queue: queue.Queue = queue.Queue(max(1, int(maxsize)))
        self._stop = threading.Event()
        self._finished = False
        self._inline: Iterator[Any] | None = None
        #: The worker thread (None with ``maxsize`` 0).
        self.thread: threading.Thread | None = None
        if int(maxsize) <= 0:
            self._inline = iter(make_iter())
            return
        self.thread = threading.Thread(target=self._run, args=(make_iter,), name=name, daemon=True)
        self.thread.start()

    def _run(self, make_iter) -> None:
        try:
            for item in make_iter():
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # handed to the consumer
            self._put((_ERROR, exc))

    def _put(self, message) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Prefetcher:
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        if self._inline is not None:
            return next(self._inline)
        kind, item = self._queue.get()
        if kind == _ITEM:
            return item
        self._finished = True
        if kind == _ERROR:
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop the thread (it ends at its next hand-over) and wait for it."""
        self._stop.set()
        self._finished = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        elif hasattr(self._inline, "close"):
            self._inline.close()


def prefetch(
    iterable: Iterable[Any], maxsize: int = 2, name: str = "ecoseg-prefetch"
) -> Iterator[Any]:
    """Iterate ``iterable`` in a daemon thread, ``maxsize`` items ahead of the consumer.

    Decoding (PyAV), preprocessing and numpy work release the GIL, so they overlap with the
    consumer; memory stays bounded by ``maxsize`` items. The thread starts at the first
    ``next`` and stops when the consumer stops iterating.

    Parameters
    ----------
    iterable : iterable
    maxsize : int
        Items computed ahead at most.
    name : str
        Thread name.

    Yields
    ------
    The items of ``iterable`` (its exceptions are re-raised here, in order).

    Examples
    --------
    >>> list(prefetch(range(3)))
    [0, 1, 2]
    """
    worker = Prefetcher(lambda: iter(iterable), maxsize, name)
    try:
        yield from worker
    finally:
        worker.close()


# ---------------------------------------------------------------------------------------
# the network's input
# ---------------------------------------------------------------------------------------
class SlowBf16Warning(UserWarning):
    """``fast`` (bf16) asked for on a CPU without bf16 instructions: the run stays fp32."""


def cpu_has_bf16() -> bool:
    """Whether this CPU computes in bf16 natively (x86: AVX-512 BF16 or AMX).

    Without such instructions torch's CPU bf16 runs several times slower than fp32 (sam2.1-tiny
    at 256 px: 0.17x, docs/performance.md). CPUs torch cannot tell this about (ARM) count as
    without.

    Examples
    --------
    >>> isinstance(cpu_has_bf16(), bool)
    True
    """
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def fast_bf16(fast: bool, device: torch.device | str) -> bool:
    """Whether ``fast`` runs the network in bf16 on ``device``.

    On CUDA and MPS: as asked. On a CPU: only where :func:`cpu_has_bf16`; elsewhere a
    :class:`SlowBf16Warning` says so and the run stays exact fp32.

    Examples
    --------
    >>> fast_bf16(False, "cpu"), fast_bf16(True, "cuda")
    (False, True)
    """
    if not fast or str(device).split(":")[0] != "cpu" or cpu_has_bf16():
        return bool(fast)
    warn(
        "fast (bf16) ignored: this CPU has no bf16 instructions (AVX-512 BF16 or AMX), where "
        "bf16 runs several times slower than fp32; running exact fp32",
        SlowBf16Warning,
    )
    return False


def bf16_autocast(enabled: bool, device: torch.device):
    """bfloat16 autocast on ``device`` when ``enabled``, else a no-op context.

    Examples
    --------
    >>> import torch
    >>> with bf16_autocast(True, torch.device("cpu")):
    ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
    torch.bfloat16
    """
    if enabled:
        import torch

        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def preprocess_frame(image: np.ndarray, size: int) -> torch.Tensor:
    """Resize an RGB frame to the model input and normalise it, as the official video loader.

    The frame is resized to ``size`` x ``size`` with PIL's bicubic filter (the default of
    ``PIL.Image.resize``), scaled to [0, 1] and normalised with the ImageNet mean and std.
    A pixel value has only 256 possible results per channel, so they are looked up in
    :func:`normalised_values` (the same float32 arithmetic, done once): bit-identical to
    scaling and normalising every pixel, at a tenth of the cost (about 50 ms of a 1024 px
    frame on a loaded laptop core).

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3)
    size : int

    Returns
    -------
    Tensor of float32, shape (3, size, size)

    Examples
    --------
    >>> preprocess_frame(np.zeros((48, 64, 3), np.uint8), 32).shape
    torch.Size([3, 32, 32])
    """
    import torch
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {image.dtype} {image.shape}")
    resized = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))
    table = normalised_values()
    out = np.empty((3, size, size), np.float32)
    for c in range(3):
        np.take(table[c], resized[:, :, c], out=out[c])
    return torch.from_numpy(out)


@functools.cache
def normalised_values() -> np.ndarray:
    """The official loader's input value of each 8-bit pixel value, per channel: ``(3, 256)``
    float32, ``(float32(v / 255) - mean) / std`` in float32 as the loader computes it.

    Examples
    --------
    >>> t = normalised_values()
    >>> t.shape, float(t[0, 0]), float(t[0, 255])  # doctest: +ELLIPSIS
    ((3, 256), -2.117..., 2.248...)
    """
    import torch

    x = torch.from_numpy(np.arange(256) / 255.0).to(torch.float32)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32)[:, None]
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32)[:, None]
    table = ((x[None, :] - mean) / std).numpy()
    table.flags.writeable = False
    return table


class FrameEncoder:
    """Encodes frames on the model device, keeping the features of the last frame only.

    Parameters
    ----------
    model : SAM2Model
    device : torch.device
    fn : callable, optional
        The image encoder (default ``model.encode_image``; e.g. a compiled one).

    Examples
    --------
    >>> from ecoseg import sam2
    >>> net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    >>> enc = FrameEncoder(net, net.device)
    >>> feats = enc(0, np.zeros((48, 64, 3), np.uint8))
    >>> enc.cached(0) is feats, enc.cached(1) is None
    (True, True)
    """

    def __init__(self, model: SAM2Model, device: torch.device, fn=None):
        self.model = model
        self.device = device
        self.fn = fn or model.encode_image
        self._last: tuple[int, FrameFeatures] | None = None

    def pixels(self, image: np.ndarray) -> torch.Tensor:
        """The preprocessed (1, 3, S, S) input of ``image`` (pinned on CUDA)."""
        x = preprocess_frame(image, self.model.image_size)[None]
        if self.device.type == "cuda":
            x = x.pin_memory()
        return x

    def __call__(
        self, index: int, image: np.ndarray | None = None, pixels: torch.Tensor | None = None
    ) -> FrameFeatures:
        """Features of frame ``index`` from its ``image`` or preprocessed ``pixels``."""
        import torch

        if self._last is not None and self._last[0] == index:
            return self._last[1]
        with torch.inference_mode():
            if pixels is None:
                pixels = self.pixels(image)
            feats = self.fn(pixels.to(self.device, non_blocking=True))
        self._last = (index, feats)
        return feats

    def cached(self, index: int) -> FrameFeatures | None:
        """The features of ``index`` if it was the last frame encoded, else None."""
        return self._last[1] if self._last is not None and self._last[0] == index else None


# ---------------------------------------------------------------------------------------
# results on the device, fetched without stalling the GPU
# ---------------------------------------------------------------------------------------
def label_index(logits: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Per pixel, ``1 +`` the index of the winning object (0: background), on the device.

    The rule of :func:`ecoseg.engine.results.labels_from_logits`: the highest positive logit
    wins; ties go to the object with the higher score (then the earlier one).

    Parameters
    ----------
    logits : Tensor, shape (N, H, W)
    scores : Tensor, shape (N,)

    Returns
    -------
    Tensor of int64, shape (H, W)

    Examples
    --------
    >>> import torch
    >>> label_index(torch.tensor([[[1.0, -1.0]], [[2.0, -3.0]]]), torch.tensor([0.5, 0.5]))
    tensor([[2, 0]])
    """
    import torch

    if logits.shape[0] == 0:
        return torch.zeros(logits.shape[1:], dtype=torch.int64, device=logits.device)
    order = torch.argsort(-scores.double(), stable=True)
    ranked = logits[order]
    best = ranked.argmax(dim=0)
    fg = ranked.gather(0, best[None])[0] > 0
    return torch.where(fg, order[best] + 1, torch.zeros_like(best))


class PendingResult:
    """A frame result being copied to the host (``get`` waits for the copy only)."""

    def __init__(self, index, time, ids, scores, logits, labels, event, embeddings=None):
        self.index, self.time, self.ids = index, time, ids
        self._scores, self._logits, self._labels, self._event = scores, logits, labels, event
        self._embeddings = embeddings

    def get(self) -> FrameResult:
        """The :class:`~ecoseg.engine.results.FrameResult` on the host."""
        if self._event is not None:
            self._event.synchronize()
        labels = None
        if self._labels is not None:
            table = np.concatenate([[0], self.ids]).astype(np.uint32)
            labels = table[self._labels.numpy()]
        return FrameResult(
            index=self.index,
            time=self.time,
            object_ids=self.ids,
            scores=self._scores.numpy().astype(np.float32, copy=False),
            logits=None if self._logits is None else self._logits.numpy(),
            labels=labels,
            embeddings=None if self._embeddings is None else self._embeddings.numpy(),
        )


def fetch(
    tracked: TrackedFrame,
    time: float,
    size: tuple[int, int],
    output: str,
    embeddings: torch.Tensor | None = None,
) -> PendingResult:
    """Resize to the video, resolve labels on the device, start the copies to the host.

    Parameters
    ----------
    tracked : TrackedFrame
        The tracker's output for one frame (on the device).
    time : float
        The frame's time in seconds.
    size : (height, width)
        The video size.
    output : {"logits", "labels"}
    embeddings : Tensor (N, C), optional
        Mask-pooled image embeddings of the objects (:func:`ecoseg.engine.pooling.mask_pooled`).

    Returns
    -------
    PendingResult
        ``.get()`` waits for the copies and returns the frame's result.
    """
    import torch

    from ecoseg.sam2.model import upsample_logits

    device = tracked.mask_logits.device
    ids = np.asarray(tracked.object_ids, dtype=np.int64)
    logits = upsample_logits(tracked.mask_logits.float(), size)[:, 0]
    scores = torch.sigmoid(tracked.scores[:, 0].float())
    cuda = device.type == "cuda"

    def host(x: torch.Tensor) -> torch.Tensor:
        if not cuda:
            return x.cpu()
        out = torch.empty(x.shape, dtype=x.dtype, pin_memory=True)
        return out.copy_(x, non_blocking=True)

    if output == "labels":
        index = label_index(logits, scores)
        index = index.to(torch.uint8 if len(ids) < 255 else torch.int32)
        host_logits, host_labels = None, host(index)
    else:
        host_logits, host_labels = host(logits), None
    host_scores = host(scores)
    host_emb = None if embeddings is None else host(embeddings.float())
    event = None
    if cuda:
        event = torch.cuda.Event()
        event.record()
    return PendingResult(
        tracked.index, float(time), ids, host_scores, host_logits, host_labels, event, host_emb
    )


# ---------------------------------------------------------------------------------------
# cancellation
# ---------------------------------------------------------------------------------------
def until_cancelled(
    results: Iterable[FrameResult], cancel: Any, store, n: int
) -> Iterator[FrameResult]:
    """``results``, then :class:`~ecoseg.errors.Cancelled` (the store flushed) if they
    stopped before frame ``n - 1`` because of ``cancel`` (and not a trail of empty frames
    written in place of the rest by :func:`~ecoseg.engine.results.write_results`)."""
    last = -1
    for r in results:
        last = r.index
        yield r
    if last < n - 1 and is_cancelled(cancel):
        store.flush()
        raise Cancelled.after(store.path, store.n_frames)

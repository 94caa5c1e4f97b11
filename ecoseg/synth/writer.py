"""Files: the clip as H.264 ``video.mp4`` and its exact truth as the mask store ``truth.zarr``."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ecoseg._checks import check_path_arg, check_switch
from ecoseg._paths import check_out_folder, check_out_suffix, check_overwrite
from ecoseg.errors import ConfigError
from ecoseg.synth.rendering import SynthFrame, synth_frames
from ecoseg.synth.scene import make_scene

__all__ = ["ENCODER_OPTIONS", "GENERATOR", "GENERATOR_VERSION", "SynthResult", "synth"]

GENERATOR = "ecoseg.synth"
GENERATOR_VERSION = 1  # bump when the same parameters would render different frames

#: libx264 settings besides ``crf`` that make ``video.mp4``'s bytes depend on the parameters
#: alone, not on the machine: one encoder thread (left to itself x264 cuts a picture of 128 rows
#: or more into one slice per core, so the bytes followed the core count) and ``cpu-independent``
#: (x264's SIMD code for macroblock-tree rate control rounds differently on different
#: processors; this uses its C arithmetic)
ENCODER_OPTIONS = MappingProxyType(
    {"preset": "veryfast", "threads": "1", "x264-params": "cpu-independent=1"}
)


@dataclass(frozen=True, eq=False)
class SynthResult:
    """What :func:`synth` wrote.

    Attributes
    ----------
    video, truth : Path
        ``out/video.mp4`` and ``out/truth.zarr``.
    mm_per_px : float
        Calibration of the clip.
    frames, size, fps
        Number of frames, (width, height), frame rate.
    objects : pandas.DataFrame
        One row per object of the truth store, in its order: id, class, kind, length_px,
        length_mm, depth, frames_visible, first_frame, last_frame. An organism of the scene
        that no frame shows (it stays off-frame, or behind nearer ones, the whole clip) is in
        neither: the truth lists the animals a viewer could count, and its id is skipped.
    maxn : dict of str to int
        MaxN per class in the truth: the most individuals of the class visible in one frame.

    Examples
    --------
    >>> import tempfile
    >>> synth(tempfile.mkdtemp(), frames=3, size=(48, 32))  # doctest: +ELLIPSIS
    <SynthResult '.../video.mp4' + '.../truth.zarr': 3 frames of 48x32 at 30 fps, 6 objects>
    """

    video: Path
    truth: Path
    mm_per_px: float
    frames: int
    size: tuple[int, int]
    fps: float
    objects: Any
    maxn: dict

    def __repr__(self) -> str:  # the objects table and MaxN are attributes, not a wall of text
        w, h = self.size
        return (
            f"<SynthResult {str(self.video)!r} + {str(self.truth)!r}: {self.frames} frames of "
            f"{w}x{h} at {self.fps:g} fps, {len(self.objects)} objects>"
        )


def synth(
    out: str | os.PathLike,
    *,
    seed: int = 0,
    frames: int = 150,
    size: tuple[int, int] = (640, 360),
    fps: float = 30.0,
    camera: str = "static",
    n_fish: int = 6,
    n_invertebrates: int = 2,
    overwrite: bool = False,
    crf: int = 20,
    chunk_frames: int = 25,
    progress: bool = False,
) -> SynthResult:
    """Write a synthetic reef clip ``out/video.mp4`` and its truth store ``out/truth.zarr``.

    Parameters
    ----------
    out : str or Path
        Output folder (created if missing); one named as a file of another kind (``c.mp4``,
        ``clip.json``) is refused.
    seed, frames, size, fps, camera, n_fish, n_invertebrates
        The scene, see :func:`make_scene`.
    overwrite : bool
        Replace an existing ``video.mp4`` / ``truth.zarr`` in ``out``.
    crf : int
        H.264 constant rate factor (lower is better quality; 20 is visually clean). The other
        libx264 settings are fixed (:data:`ENCODER_OPTIONS`), so the encoding of given frames
        depends on the libx264/FFmpeg build only, not on the machine; the frames themselves
        may differ in a few pixels on another processor (see :mod:`ecoseg.synth`).
    chunk_frames : int
        Frames per chunk of the truth store's labels.
    progress : bool
        Show a progress bar of the frames written on stderr (``ecoseg synth`` does, unless
        ``--quiet``: a minute of 1080p takes minutes).

    Returns
    -------
    SynthResult

    Raises
    ------
    ConfigError
        A parameter is out of range, ``out`` is named as another kind of file (``c.mp4``: it
        is a folder, :func:`ecoseg._paths.check_out_suffix`), or ``out/video.mp4`` exists and
        ``overwrite`` is false, or is not a clip ecoseg synth wrote (``truth.zarr`` beside it
        does not record its bytes), which is never replaced.
    StoreError
        ``out/truth.zarr`` exists and ``overwrite`` is false, or is no ecoseg store (a file, a
        folder, another tool's zarr store), which is never replaced.
    TypeError
        ``out`` is not a path (``None``).

    Examples
    --------
    >>> import tempfile
    >>> clip = synth(tempfile.mkdtemp(), seed=2, frames=6, size=(64, 48))
    >>> clip.video.name, clip.truth.name, clip.frames, clip.mm_per_px
    ('video.mp4', 'truth.zarr', 6, 25.0)
    """
    import av
    import pandas as pd

    from ecoseg._hashing import sha256_file
    from ecoseg._progress import progress_bar
    from ecoseg._version import __version__
    from ecoseg.errors import StoreError
    from ecoseg.store import Location, MaskStore
    from ecoseg.store.identify import not_replaceable

    check_path_arg(out, "synth: out", "a path to the output folder")
    progress = check_switch(progress, "synth: progress")  # "no" showed a bar
    if isinstance(crf, bool) or not isinstance(crf, int | np.integer) or not 0 <= crf <= 51:
        raise ConfigError(f"crf (--crf) must be an integer between 0 and 51, got {crf!r}")
    if (
        isinstance(chunk_frames, bool)
        or not isinstance(chunk_frames, int | np.integer)
        or chunk_frames < 1
    ):
        raise ConfigError(f"chunk_frames must be an integer >= 1, got {chunk_frames!r}")
    scene = make_scene(
        seed,
        frames=frames,
        size=size,
        fps=fps,
        camera=camera,
        n_fish=n_fish,
        n_invertebrates=n_invertebrates,
    )
    check_out_folder(out)
    check_out_suffix(out, "", "a synthetic clip is a folder (video.mp4 and truth.zarr)")
    out = Path(out)
    video_path, truth_path = out / "video.mp4", out / "truth.zarr"
    if (kept := not_replaceable(Location(truth_path))) is not None:  # even with overwrite
        raise StoreError(kept)
    if (why := _not_our_video(video_path, truth_path)) is not None:  # even with overwrite
        raise ConfigError(
            f"{video_path}: exists and is not a clip ecoseg synth wrote ({why}); refusing to "
            "replace it even with overwrite (move it away or choose another output folder)"
        )
    check_overwrite(video_path, overwrite)
    check_overwrite(truth_path, overwrite, error=StoreError)
    out.mkdir(parents=True, exist_ok=True)

    params = dict(scene.params, crf=int(crf), chunk_frames=int(chunk_frames))
    provenance = {
        "engine": "truth",
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "ecoseg_version": __version__,
        "seed": scene.seed,
        "parameters": params,
        "video": {
            "path": video_path.name,
            "fps": scene.fps,
            "size": [scene.width, scene.height],
            "frames": scene.frames,
            "codec": "h264",
        },
    }
    calibration = {"mm_per_px": scene.mm_per_px, "method": "synthetic"}
    # its own, kept when the store is calibrated again (a report's steps make it with this)
    provenance["calibration"] = calibration
    store = MaskStore.create(
        truth_path,
        height=scene.height,
        width=scene.width,
        chunk_frames=int(chunk_frames),
        provenance=provenance,
        calibration=calibration,
        overwrite=overwrite,
    )
    objects = scene.objects  # the organisms' records, listed in the store once visible
    column = {o.id: k for k, o in enumerate(scene.organisms)}
    visible = np.zeros((scene.frames, len(column)), bool)
    # an organism becomes an object of the truth with the first frame that shows it (ids
    # sorted within a chunk), so one never visible is not listed: its truth would have no pixel
    listed: list[int] = []  # columns of ``visible`` in the store's object order
    tmp = video_path.with_name(video_path.name + ".partial")
    try:
        with av.open(str(tmp), "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=scene.rate)
            stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
            stream.time_base = 1 / scene.rate
            stream.options = {"crf": str(int(crf)), **ENCODER_OPTIONS}
            batch: list[SynthFrame] = []

            def write(frames_: list[SynthFrame]) -> None:  # encoder + store, in a worker
                for f in frames_:
                    vf = _yuv420(av.VideoFrame.from_ndarray(f.image, format="rgb24"))
                    vf.pts = f.index
                    container.mux(stream.encode(vf))
                rows = visible[frames_[0].index : frames_[-1].index + 1]
                new = [int(k) for k in np.flatnonzero(rows.any(axis=0)) if k not in listed]
                store.add_objects([objects[k] for k in new])
                listed.extend(new)
                store.append(
                    np.stack([f.labels for f in frames_]),
                    np.array([f.time for f in frames_]),
                    scores=rows[:, listed].astype(np.float32),
                )

            # rendering overlaps encoding and compression (numpy, x264 and blosc release the GIL)
            with (
                ThreadPoolExecutor(max_workers=1) as pool,
                progress_bar(
                    total=scene.frames, desc="synth", unit="frame", disable=not progress
                ) as bar,
            ):
                pending = None
                for frame in synth_frames(scene):
                    bar.update(1)
                    visible[frame.index, [column[k] for k in frame.ids]] = True
                    batch.append(frame)
                    if len(batch) == chunk_frames or frame.index == scene.frames - 1:
                        if pending is not None:
                            pending.result()
                        pending = pool.submit(write, batch)
                        batch = []
                if pending is not None:
                    pending.result()
            container.mux(stream.encode(None))
    except BaseException:  # interrupted, disk full: no half clip that a re-run must overwrite
        tmp.unlink(missing_ok=True)
        store.discard()
        raise
    os.replace(tmp, video_path)
    store.set_provenance(video=dict(provenance["video"], sha256=sha256_file(video_path)))
    store.mark_complete()
    store.close()

    rows = []
    for k in listed:
        o, seen = scene.organisms[k], np.flatnonzero(visible[:, k])
        rows.append(
            {
                "id": o.id,
                "class": o.cls,
                "kind": o.kind,
                "length_px": o.length,
                "length_mm": o.length * scene.mm_per_px,
                "depth": o.depth,
                "frames_visible": int(seen.size),
                "first_frame": int(seen[0]),
                "last_frame": int(seen[-1]),
            }
        )
    columns = ["id", "class", "kind", "length_px", "length_mm", "depth", "frames_visible"]
    table = pd.DataFrame(rows, columns=[*columns, "first_frame", "last_frame"])
    classes = [scene.organisms[k].cls for k in listed]
    maxn = {
        c: int(visible[:, [k for k, x in zip(listed, classes) if x == c]].sum(axis=1).max())
        for c in dict.fromkeys(classes)
    }
    return SynthResult(
        video=video_path,
        truth=truth_path,
        mm_per_px=scene.mm_per_px,
        frames=scene.frames,
        size=(scene.width, scene.height),
        fps=scene.fps,
        objects=table,
        maxn=maxn,
    )


def _not_our_video(video: Path, truth: Path) -> str | None:
    """Why the file ``video`` (``out/video.mp4``) is not a clip ``ecoseg synth`` wrote, or None:
    nothing (or an empty file) is there, or ``truth.zarr`` beside it, a store of ecoseg synth,
    records its bytes (``provenance["video"]["sha256"]``)."""
    from ecoseg._hashing import sha256_file
    from ecoseg.store import MaskStore

    if not os.path.lexists(video):
        return None
    if not video.is_file():
        return "not a file"
    if video.stat().st_size == 0:
        return None  # nothing to lose
    try:
        with MaskStore.open(truth) as store:
            prov = store.provenance
    except Exception:  # noqa: BLE001 - no store, a damaged one: nothing vouches for the video
        return f"no store {truth.name} of ecoseg synth beside it records its bytes"
    recorded = (prov.get("video") or {}).get("sha256") if isinstance(prov, dict) else None
    if prov.get("generator") != GENERATOR or recorded is None:
        return f"{truth.name} beside it is no finished clip of ecoseg synth"
    if recorded != sha256_file(video):
        return f"its bytes are not those {truth.name} beside it records"
    return None


def _yuv420(frame):
    """RGB to the encoder's YUV 4:2:0 with swscale's exact arithmetic.

    swscale's default SIMD conversion rounds differently from its C code (so from processor to
    processor); ``ACCURATE_RND | BITEXACT`` gives the C code's pixels on every machine.
    """
    from av.video.reformatter import Interpolation

    exact = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.BITEXACT
    return frame.reformat(format="yuv420p", interpolation=exact, threads=1)

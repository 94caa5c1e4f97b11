"""Background model of the classical engine: downscaling, colour space, camera motion.

Everything here works on a downscaled copy of each frame (the *work* resolution, about 256 px
wide by default), which keeps the per-frame cost small and independent of the video's size:

- :func:`downscale_opponent` turns an RGB frame into a block-averaged image of luminance and
  two normalised chromaticities. Underwater, flickering caustics and shade change the
  brightness of the reef but hardly its chromaticity; animals usually differ from the reef in
  chromaticity too, so a per-channel noise model (below) with the luminance down-weighted lets
  quiet chroma differences count for more than flickering brightness.
- :class:`ShiftEstimator` measures the frame-to-frame translation of the whole picture by phase
  correlation (FFT, sub-pixel peak fit), for pans and shake.
- :class:`BackgroundModel` keeps a per-pixel running mean and variance of the background,
  shifts them with the camera, scores each pixel's difference as a noise-normalised distance,
  and updates selectively (fast where the pixel is background, slowly where it is foreground).
- :func:`still_median` starts it: the per-pixel median of the warm-up frames where the pixel
  did not change (:func:`nanmedian0` is a fast NaN-aware median).

Pure numpy/scipy; nothing here knows about tracks or video files.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft

__all__ = [
    "BackgroundModel",
    "ShiftEstimator",
    "downscale_opponent",
    "nanmean0",
    "nanmedian0",
    "shift_image",
    "still_median",
    "work_factor",
]


def work_factor(width: int, height: int, work_width: int) -> int:
    """Integer downscale factor that brings a ``width`` x ``height`` frame near ``work_width``.

    Examples
    --------
    >>> work_factor(1280, 720, 320), work_factor(640, 360, 320), work_factor(160, 96, 320)
    (4, 2, 1)
    """
    f = max(1, int(width) // max(1, int(work_width)))
    # keep at least 16 work pixels on the short side
    while f > 1 and min(width, height) // f < 16:
        f -= 1
    return f


def downscale_opponent(image: np.ndarray, factor: int) -> np.ndarray:
    """Block-average an RGB uint8 frame by ``factor`` into luminance + chromaticity channels.

    Channel 0 is the luminance ``Y = (R + G + B) / 3``; channels 1 and 2 are the normalised
    chromaticities ``255 R / (R + G + B)`` and ``255 B / (R + G + B)``, which do not change when
    the light on a surface gets brighter or darker (caustics, shade): they let the background
    model tell a passing animal from a flicker of light. The frame is cropped to a multiple of
    ``factor``.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3)
    factor : int

    Returns
    -------
    ndarray of float32, shape (3, H // factor, W // factor)
        Channel-first, so that per-channel work runs on contiguous planes.

    Examples
    --------
    >>> img = np.zeros((4, 4, 3), np.uint8); img[..., 0] = 90; img[..., 2] = 30
    >>> [round(float(v), 1) for v in downscale_opponent(img, 2)[:, 0, 0]]
    [40.3, 189.7, 63.2]
    """
    f = int(factor)
    h, w = image.shape[0] // f, image.shape[1] // f
    if f == 1:
        rgb = image[:h, :w].astype(np.float32)
    else:
        # integer sums (exact, in any order): far cheaper than a float reshape-mean at full
        # size; first the f rows of each block, a reduction over whole contiguous rows
        block_rows = image[: h * f, : w * f].reshape(h, f, w * f * 3)
        rows = np.add.reduce(block_rows, axis=1, dtype=np.uint16)
        # the f pixels of each block side by side: einsum's loop is about 2x faster here than
        # f strided adds with an inner axis of 3 (integer sums: the same values)
        acc = np.einsum("pkc->pc", rows.reshape(h * w, f, 3)).reshape(h, w, 3)
        rgb = acc.astype(np.float32)
        rgb *= np.float32(1.0 / (f * f))
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    total = r + g  # explicit adds: a reduction over a length-3 axis is slow in numpy
    total += b
    total += np.float32(1.0)  # black stays defined
    out = np.empty((3, h, w), np.float32)
    np.multiply(total, np.float32(1.0 / 3.0), out=out[0])
    scale = np.float32(255.0) / total
    np.multiply(r, scale, out=out[1])
    np.multiply(b, scale, out=out[2])
    return out


def shift_image(
    arr: np.ndarray, dy: float, dx: float, *, order: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Translate ``arr`` so that ``out[..., y, x] = arr[..., y - dy, x - dx]`` (content moves by
    +d) over its last two axes.

    Bilinear (``order=1``) or nearest (``order=0``) sampling, edges clamped.

    Returns
    -------
    out : ndarray, same shape and dtype as ``arr``
    valid : ndarray of bool, shape ``arr.shape[-2:]``
        False where the source position fell outside ``arr`` (newly exposed pixels).

    Examples
    --------
    >>> a = np.arange(5.0)[None, :].repeat(2, 0)
    >>> out, valid = shift_image(a, 0, 1.5)
    >>> out[0], valid[0]
    (array([0. , 0. , 0.5, 1.5, 2.5]), array([False, False,  True,  True,  True]))
    """
    h, w = arr.shape[-2:]
    ys = np.arange(h) - dy
    xs = np.arange(w) - dx
    valid_y = (ys >= -1e-6) & (ys <= h - 1 + 1e-6)
    valid_x = (xs >= -1e-6) & (xs <= w - 1 + 1e-6)
    valid = valid_y[:, None] & valid_x[None, :]
    if order == 0:
        iy = np.clip(np.rint(ys).astype(np.intp), 0, h - 1)
        ix = np.clip(np.rint(xs).astype(np.intp), 0, w - 1)
        return arr[..., iy, :][..., ix], valid
    out = _lerp_axis(arr, ys, arr.ndim - 2)
    out = _lerp_axis(out, xs, arr.ndim - 1)
    return out.astype(arr.dtype, copy=False), valid


def _lerp_axis(arr: np.ndarray, pos: np.ndarray, axis: int) -> np.ndarray:
    n = arr.shape[axis]
    pos = np.clip(pos, 0, n - 1)
    i0 = np.floor(pos).astype(np.intp)
    frac = pos - i0
    if not np.any(frac > 1e-6):
        return np.take(arr, i0, axis=axis)
    i1 = np.minimum(i0 + 1, n - 1)
    shape = [1] * arr.ndim
    shape[axis] = n
    wgt = frac.astype(np.float32).reshape(shape)
    a0 = np.take(arr, i0, axis=axis)
    a1 = np.take(arr, i1, axis=axis)
    a1 -= a0
    a1 *= wgt
    a0 += a1
    return a0


class ShiftEstimator:
    """Translation between two grey images by phase correlation.

    ``est(ref, cur)`` returns how far the content of ``cur`` is moved relative to ``ref``,
    ``(dy, dx)`` in pixels (``cur[y, x] ~ ref[y - dy, x - dx]``), or ``(0.0, 0.0)`` when the
    correlation peak is too weak to trust or the motion implausibly large. The cross-power
    spectrum is Hann-windowed and Gaussian-weighted, which makes the correlation peak Gaussian so
    a log-parabola through three samples gives its sub-pixel position.

    Parameters
    ----------
    shape : (h, w)
        Size of the grey images.
    max_shift : float
        Largest plausible motion as a fraction of the image size.
    min_peak : float
        Smallest correlation peak accepted, relative to a perfect match (0-1).
    sigma : float
        Width in pixels of the Gaussian correlation peak.

    Examples
    --------
    >>> from scipy import ndimage
    >>> world = ndimage.gaussian_filter(np.random.default_rng(0).random((80, 120)), 2)
    >>> est = ShiftEstimator((64, 96))
    >>> dy, dx = est(world[8:72, 10:106], world[8:72, 7:103])
    >>> round(dy, 1), round(dx, 1)
    (0.0, 3.0)
    """

    def __init__(
        self,
        shape: tuple[int, int],
        max_shift: float = 0.25,
        min_peak: float = 0.05,
        sigma: float = 1.0,
    ):
        h, w = int(shape[0]), int(shape[1])
        self.shape = (h, w)
        wy = np.hanning(h + 2)[1:-1].astype(np.float32)
        wx = np.hanning(w + 2)[1:-1].astype(np.float32)
        self._window = wy[:, None] * wx[None, :]
        ky = sp_fft.fftfreq(h)[:, None]
        kx = sp_fft.rfftfreq(w)[None, :]
        gauss = np.exp(-2 * np.pi**2 * sigma**2 * (ky**2 + kx**2))
        self._gauss = gauss.astype(np.float32)
        # a perfect match gives this peak height (sum of the weights over the full spectrum)
        full = np.exp(-2 * np.pi**2 * sigma**2 * (ky**2 + sp_fft.fftfreq(w)[None, :] ** 2))
        self._norm = float(full.sum()) / (h * w)
        self._max = (max(1.0, max_shift * h), max(1.0, max_shift * w))
        self._min_peak = float(min_peak)

    @property
    def nbytes(self) -> int:
        return self._window.nbytes + self._gauss.nbytes

    def spectrum(self, grey: np.ndarray) -> np.ndarray:
        """Windowed spectrum of ``grey`` (reusable as ``ref`` or ``cur``)."""
        g = np.asarray(grey, np.float32)
        if g.shape != self.shape:
            raise ValueError(f"image of shape {g.shape}, estimator made for {self.shape}")
        return sp_fft.rfft2((g - g.mean()) * self._window)

    def __call__(self, ref, cur) -> tuple[float, float]:
        a = ref if np.iscomplexobj(ref) else self.spectrum(ref)
        b = cur if np.iscomplexobj(cur) else self.spectrum(cur)
        cross = b * np.conj(a)
        cross /= np.abs(cross) + 1e-12
        cross *= self._gauss
        h, w = self.shape
        corr = sp_fft.irfft2(cross, s=(h, w))
        k = int(np.argmax(corr))
        py, px = divmod(k, w)
        peak = float(corr[py, px])
        if peak < self._min_peak * self._norm:
            return (0.0, 0.0)
        dy = py + _gauss_vertex(corr[(py - 1) % h, px], peak, corr[(py + 1) % h, px])
        dx = px + _gauss_vertex(corr[py, (px - 1) % w], peak, corr[py, (px + 1) % w])
        dy = dy - h if dy > h / 2 else dy
        dx = dx - w if dx > w / 2 else dx
        if abs(dy) > self._max[0] or abs(dx) > self._max[1]:
            return (0.0, 0.0)
        return (float(dy), float(dx))

    @staticmethod
    def support(ref: np.ndarray, cur: np.ndarray, shift, tol: float) -> float:
        """How much of the picture prefers ``shift`` over no motion (-1 to 1).

        The fraction of pixels that ``shift`` explains better than "no motion" by more than
        ``tol``, minus the fraction it explains worse. A pan over a textured reef scores high;
        an animal moving over a plain background scores low, since only its own pixels take
        part: that is how a moving animal is told from a moving camera.
        """
        moved, valid = shift_image(ref, shift[0], shift[1])
        e0 = np.abs(cur - ref)[valid]
        e1 = np.abs(cur - moved)[valid]
        if e0.size == 0:
            return 0.0
        better = np.count_nonzero(e1 + tol < e0)
        worse = np.count_nonzero(e0 + tol < e1)
        return (better - worse) / float(ref.size)


def _gauss_vertex(a: float, b: float, c: float) -> float:
    """Sub-sample offset of a Gaussian peak from three samples around its maximum ``b``."""
    tiny = 1e-6 * b
    if b <= 0:
        return 0.0
    la, lb, lc = np.log(max(a, tiny)), np.log(b), np.log(max(c, tiny))
    den = la - 2.0 * lb + lc
    if den >= 0:
        return 0.0
    return float(np.clip(0.5 * (la - lc) / den, -0.5, 0.5))


class BackgroundModel:
    """Per-pixel running mean and variance of the background at work resolution.

    Parameters
    ----------
    mean : ndarray of float32, shape (c, h, w)
        Initial background (e.g. the median of the first frames).
    var : ndarray of float32, shape (c, h, w)
        Initial per-pixel variance.
    rate : float
        Learning rate where a pixel is background (1 / memory in frames).
    rate_foreground : float
        Learning rate where a pixel is foreground (slow: heals ghosts, and, as an accepted
        limit, absorbs animals that stay put).
    var_floor : sequence of float, length c
        Smallest variance per channel (quantisation and compression noise).
    weights : sequence of float, length c, optional
        Weight of each channel's squared z-score in the distance (default all 1).

    Examples
    --------
    >>> bg = BackgroundModel(np.zeros((3, 4, 4), np.float32), np.ones((3, 4, 4), np.float32))
    >>> frame = np.zeros((3, 4, 4), np.float32); frame[:, 1, 1] = 10
    >>> d = bg.distance(frame)
    >>> float(d[1, 1]) > 10, float(d[0, 0])
    (True, 0.0)
    """

    def __init__(
        self,
        mean: np.ndarray,
        var: np.ndarray,
        *,
        rate: float = 0.05,
        rate_foreground: float = 0.005,
        var_floor=(1.0, 1.0, 1.0),
        weights=None,
        var_clip: float = 3.0,
    ):
        self.mean = np.ascontiguousarray(mean, np.float32).copy()
        floor = np.asarray(var_floor, np.float32).reshape(-1, 1, 1)
        self.var_floor = floor
        self.var = np.maximum(np.asarray(var, np.float32), floor)
        self.rate = float(rate)
        self.rate_foreground = float(rate_foreground)
        self.weights = None if weights is None else [float(w) for w in weights]
        self.var_clip = float(var_clip)
        self.var_default = np.median(self.var.reshape(self.var.shape[0], -1), axis=1)

    @property
    def nbytes(self) -> int:
        return self.mean.nbytes + self.var.nbytes

    def shift(self, dy: float, dx: float, frame: np.ndarray) -> None:
        """Move the model with the camera: content moved by ``(dy, dx)`` work pixels.

        Newly exposed pixels take the current ``frame`` and the typical variance.
        """
        if dy == 0 and dx == 0:
            return
        self.mean, valid = shift_image(self.mean, dy, dx)
        self.var, _ = shift_image(self.var, dy, dx)
        if not valid.all():
            fresh = ~valid
            self.mean[:, fresh] = frame[:, fresh]
            self.var[:, fresh] = self.var_default[:, None]

    def distance(self, frame: np.ndarray) -> np.ndarray:
        """Noise-normalised distance of each pixel from the background (sqrt of sum z²)."""
        diff = frame - self.mean
        diff *= diff
        diff /= self.var
        total = diff[0] * np.float32(self.weights[0]) if self.weights else diff[0].copy()
        for c in range(1, diff.shape[0]):
            if self.weights:
                diff[c] *= np.float32(self.weights[c])
            total += diff[c]
        return np.sqrt(total, out=total)

    def update(self, frame: np.ndarray, foreground: np.ndarray) -> None:
        """Blend ``frame`` into the model: fast on background pixels, slowly on foreground."""
        rate = np.where(foreground, np.float32(self.rate_foreground), np.float32(self.rate))
        rate = rate[None]
        diff = frame - self.mean
        self.mean += rate * diff
        diff *= diff
        # a deviation counts towards the variance at most as ``var_clip`` standard deviations:
        # an animal too faint to be detected must not make the model blind where it swims
        np.minimum(diff, self.var * np.float32(self.var_clip**2), out=diff)
        diff -= self.var
        # variance learns only from background pixels (a passing animal is not noise)
        self.var += np.where(foreground[None], np.float32(0), rate) * diff
        np.maximum(self.var, self.var_floor, out=self.var)

    def absorb(self, frame: np.ndarray, mask: np.ndarray) -> None:
        """Make the pixels of ``mask`` background now (ghosts, animals that stopped)."""
        self.mean[:, mask] = frame[:, mask]


def still_median(stack: np.ndarray, lag: int = 3) -> np.ndarray:
    """Per-pixel median of the samples in which the pixel did not change over time.

    ``stack`` is ``(n, 3, h, w)`` work images (luminance, two chromaticities; NaN where not
    seen). A sample is left out where it differs from the sample ``lag`` before or after it by
    more than the noise: a fish that swims about in one place for most of the warm-up covers
    each pixel with changing colours, while the reef under it, whenever it shows, looks the
    same. Pixels left with fewer than three steady samples take the plain median.

    Examples
    --------
    >>> st = np.full((9, 3, 1, 2), 50.0, np.float32)
    >>> st[:6, :, 0, 0] = np.arange(6)[:, None] * 20.0  # something moving over pixel 0
    >>> still_median(st)[:, 0, 0].tolist()
    [50.0, 50.0, 50.0]
    """
    n = stack.shape[0]
    if n < 2 * lag + 3:
        return nanmedian0(stack)
    tol = np.array([20.0, 5.0, 5.0], np.float32)[:, None, None]
    moving = np.zeros((n,) + stack.shape[2:], bool)
    for a in range(n - lag):
        change = np.any(np.abs(stack[a + lag] - stack[a]) > tol, axis=0)
        moving[a] |= change
        moving[a + lag] |= change
    steady = np.where(moving[:, None], np.float32(np.nan), stack)
    count = np.count_nonzero(~np.isnan(steady[:, 0]), axis=0)
    med = nanmedian0(steady)
    few = count < 3  # the plain median only where it is used (usually few pixels)
    if few.any():
        med[:, few] = nanmedian0(stack[:, :, few])
    return med


def nanmean0(a: np.ndarray) -> np.ndarray:
    """Mean over axis 0 ignoring NaN, NaN where all are NaN: ``np.nanmean(a, axis=0)``'s
    values without its "Mean of empty slice" warning.

    That warning can only be hushed by a warnings filter, which is the whole process's: set
    while the motion tracker runs in a worker thread, it hid every other thread's
    ``RuntimeWarning`` (and put back, when done, the filters it found). ``0 / 0`` here is
    numpy's floating-point ``invalid``, which ``np.errstate`` holds in this thread only.

    Examples
    --------
    >>> nanmean0(np.array([[1.0, np.nan], [3.0, np.nan]])).tolist()
    [2.0, nan]
    """
    total = np.nansum(a, axis=0)
    count = np.count_nonzero(~np.isnan(a), axis=0)
    with np.errstate(invalid="ignore"):  # 0 / 0: NaN, as np.nanmean gives
        return np.divide(total, count, out=total, casting="unsafe")


def nanmedian0(a: np.ndarray) -> np.ndarray:
    """Median over axis 0 ignoring NaN (NaN where all are NaN); faster than np.nanmedian.

    Sorting short contiguous rows (one per pixel) is several times faster here than numpy's
    median or partition along a long strided axis.
    """
    n = a.shape[0]
    rows = np.ascontiguousarray(a.reshape(n, -1).T)
    rows.sort(axis=1)  # NaN sorts last
    valid = n - np.isnan(rows).sum(axis=1)
    lo = np.maximum((valid - 1) // 2, 0)
    hi = np.maximum(valid // 2, 0)
    idx = np.arange(rows.shape[0])
    med = 0.5 * (rows[idx, lo] + rows[idx, hi])
    med[valid == 0] = np.nan
    return med.reshape(a.shape[1:])

"""Why a checkpoint file cannot be one, judged from its size and a few of its bytes, without
torch: what :func:`ecoseg.sam2.checkpoint.read_state_dict` refuses first, and what
``ecoseg weights list``, ``download`` and ``verify`` say of a file in the weights cache that no
download recorded (one copied there by hand), which must not load torch to list the cache.

Exports
-------
``unreadable_reason(path) -> str | None``, ``not_a_torch_file(path) -> str | None``,
``cut_short(path) -> str | None``
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

__all__ = ["unreadable_reason", "not_a_torch_file", "cut_short"]


def unreadable_reason(path: Path) -> str | None:
    """Why the checkpoint file ``path`` cannot be read, judged from its size and a few of its
    bytes (empty, not a torch file, cut short), or ``None`` when it may be one (only reading
    it tells): what :func:`ecoseg.sam2.checkpoint.read_state_dict` refuses first, and what
    ``ecoseg weights`` says of a file in the cache that no download recorded (one copied there
    by hand).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "sam2.1_hiera_tiny.pt"
    >>> _ = p.write_bytes(b"")
    >>> unreadable_reason(p)
    'file is empty (0 bytes), not a checkpoint'
    """
    if path.stat().st_size == 0:  # torch says EOFError with no text: "(...)" gave "()"
        return "file is empty (0 bytes), not a checkpoint"
    if path.suffix != ".safetensors" and (not_torch := not_a_torch_file(path)):
        return f"not a checkpoint ({not_torch})"
    return cut_short(path)  # torch's own words break off mid-sentence at 200 chars


def not_a_torch_file(path: Path) -> str | None:
    """Why ``path`` cannot be a ``torch.save`` file, judged from its first bytes (a zip, or
    a pickle for the old format), or ``None`` if it may be one: the unpickler says nothing a
    user understands of a CSV (``Unsupported operand 102``) or other text."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80"):
        return None
    if b"\0" not in head and head.decode("utf-8", "replace").count("\ufffd") <= 1:
        return "it holds text: a CSV, JSON or other text file?"
    return "not a torch .pt/.pth file: it starts with neither a zip nor a pickle header"


def cut_short(path: Path) -> str | None:
    """Why ``path`` looks cut off before its end (a download or copy that stopped), or
    ``None``: a ``torch.save`` zip whose end (its central directory) is missing, or a
    safetensors file shorter than its header says.

    Examples
    --------
    >>> import tempfile, torch
    >>> p = Path(tempfile.mkdtemp()) / "w.pt"
    >>> torch.save({"model": {"a": torch.zeros(1000)}}, p)
    >>> cut_short(p) is None
    True
    >>> _ = p.write_bytes(p.read_bytes()[:2000])
    >>> print(cut_short(p))  # doctest: +ELLIPSIS
    the file is cut short (2000 bytes; its zip archive has no end): ...
    """
    size = path.stat().st_size
    again = "a download or copy that stopped early? fetch or copy it again"
    with open(path, "rb") as f:
        head = f.read(8)
        if head.startswith(b"PK\x03\x04"):
            if zipfile.is_zipfile(f):
                return None
            return f"the file is cut short ({size} bytes; its zip archive has no end): {again}"
        if path.suffix != ".safetensors" or len(head) < 8:
            return None
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:  # a header length past the end: damage, not a cut (load_file says)
            return None
        try:
            header = json.loads(f.read(n))
            end = max(
                (int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"),
                default=0,
            )
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
    if 8 + n + end > size:
        return f"the file is cut short ({size} bytes of {8 + n + end}): {again}"
    return None

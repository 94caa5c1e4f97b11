"""Where a store lives: a local folder, an fsspec URL, a zarr ``Store`` object or a zip file.

Zip archives cannot rewrite entries, so a zip store is written in a hidden staging folder next
to it and packed into the archive (atomically) when the store closes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ecoseg._checks import short_repr
from ecoseg._paths import as_local_path
from ecoseg.errors import StoreError
from ecoseg.store._util import path_hint

__all__ = ["Location"]


class Location:
    """Where a store lives: local folder, URL, zarr Store object, or zip archive.

    Examples
    --------
    >>> loc = Location("survey/reef.zip")
    >>> loc.is_zip, loc.is_url, loc.local.as_posix()
    (True, False, 'survey/reef.zip')
    >>> Location("s3://bucket/reef.zarr").is_url
    True
    """

    def __init__(self, path: Any):
        self.obj = None
        if isinstance(path, os.PathLike | str):
            self.text = os.fspath(path)
        else:
            from zarr.abc.store import Store

            if not isinstance(path, Store):
                raise StoreError(
                    f"{short_repr(path)}: not a path, URL or zarr store{path_hint(path)}"
                )
            self.obj, self.text = path, repr(path)
        if self.obj is None and not self.text.strip():  # "" would be the working folder
            raise StoreError(f"{self.text!r}: an empty path is not a store")
        # a file:// URL is local: an atomic LocalStore
        self.local = None if self.obj is not None else as_local_path(self.text)
        self.is_url = self.obj is None and self.local is None
        self.is_zip = self.local is not None and self.text.lower().endswith(".zip")

    def __str__(self) -> str:
        return self.text

    def exists(self) -> bool:
        """Whether anything is stored at this location."""
        if self.local is not None:
            return self.local.exists()
        if self.obj is not None:
            from zarr.core.sync import sync

            return not sync(self.obj.is_empty(""))
        fs, root = self.filesystem()
        try:
            return bool(fs.exists(root) and (fs.isfile(root) or fs.ls(root)))
        except (FileNotFoundError, NotADirectoryError):
            return False
        except Exception as exc:  # no credentials, no network, refused: not "no such store"
            from ecoseg.store._util import short_error

            raise StoreError(f"{self.text}: cannot be reached ({short_error(exc)})") from None

    def stores_inside(self) -> list[Path]:
        """The zarr stores directly inside a local folder that is not one itself (the folder
        ``ecoseg synth -o clip`` writes holds ``clip/truth.zarr``): named when it is refused.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> (d / "truth.zarr").mkdir()
        >>> _ = (d / "truth.zarr" / "zarr.json").write_text("{}")
        >>> [p.name for p in Location(d).stores_inside()]
        ['truth.zarr']
        """
        if self.local is None or self.is_zip or not self.local.is_dir():
            return []
        return sorted(
            p for p in self.local.iterdir() if not p.name.startswith(".") and Location(p).is_zarr()
        )

    def stores_inside_note(self) -> str:
        """``"; it holds a store: PATH"`` (:meth:`stores_inside`), or ``""``: the end of the
        refusal of a folder that is not a store, where it holds one.

        Examples
        --------
        >>> import tempfile
        >>> Location(tempfile.mkdtemp()).stores_inside_note()
        ''
        """
        held = self.stores_inside()
        return f"; it holds a store: {', '.join(map(str, held))}" if held else ""

    def is_zarr(self) -> bool:
        """Whether the existing thing here looks like a zarr store (so replacing it is safe)."""
        if self.is_zip:
            return zipfile.is_zipfile(self.local)
        if self.local is not None:
            return self.local.is_dir() and (
                (self.local / "zarr.json").is_file() or (self.local / ".zgroup").is_file()
            )
        if self.obj is not None:
            return True
        fs, root = self.filesystem()
        return fs.exists(f"{root.rstrip('/')}/zarr.json")

    def filesystem(self):
        """The fsspec filesystem of a URL; an unknown protocol, or one whose package is not
        installed, is a StoreError naming the URL.

        Examples
        --------
        >>> Location("foo://bucket/reef.zarr").exists()
        Traceback (most recent call last):
        ...
        ecoseg.errors.StoreError: foo://bucket/reef.zarr: unknown URL protocol 'foo'...
        """
        import fsspec

        protocol = self.text.split("://", 1)[0]
        try:
            return fsspec.core.url_to_fs(self.text)
        except ImportError as exc:  # fsspec knows it, its package is not installed
            raise StoreError(f"{self.text}: cannot open {protocol}:// URLs ({exc})") from None
        except OSError as exc:  # a filesystem that connects when made (ftp, sftp)
            raise StoreError(f"{self.text}: cannot be reached ({exc})") from None
        except ValueError as exc:
            if "protocol" not in str(exc).lower():
                raise
            raise StoreError(
                f"{self.text}: unknown URL protocol {protocol!r} (use a folder, a .zip file, "
                "file://, s3://, gs://, memory:// or another fsspec protocol)"
            ) from None

    def zarr_store(self, read_only: bool, root: Path | None = None):
        """The zarr store to open (``root`` overrides: a zip's staging folder)."""
        from zarr.storage import LocalStore, ZipStore

        if root is not None:
            return LocalStore(root, read_only=read_only)
        if self.obj is not None:
            return self.obj
        if self.is_zip:
            return ZipStore(self.local, mode="r")
        if self.is_url:
            return self.text
        return LocalStore(self.local, read_only=read_only)

    def clear(self) -> None:
        """Remove an existing store (checked with :meth:`is_zarr` first) before re-creating."""
        if self.local is not None and not self.is_zip and self.local.exists():
            shutil.rmtree(self.local)

    def remove_made(self, staging: Path | None) -> bool:
        """Remove a store a build made here and failed to finish: a zip's staging folder (the
        archive, old or absent, is not touched) or a local folder; URLs and zarr ``Store``
        objects are left as they are. Returns whether anything was removed. Writes zarr still
        has in flight are waited for first, so none lands after the removal."""
        from ecoseg.store._util import settle_writes

        settle_writes()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
            return True
        if self.local is not None and not self.is_zip and self.local.is_dir():
            shutil.rmtree(self.local, ignore_errors=True)
            return True
        return False

    def new_staging(self) -> Path:
        parent = self.local.parent
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{self.local.name}.", suffix=".staging", dir=parent))

    def pack(self, staging: Path) -> None:
        """Write the staging folder into the zip archive atomically, then remove it."""
        tmp = self.local.with_name(self.local.name + ".partial")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for file in sorted(staging.rglob("*")):
                if file.is_file() and not file.name.endswith(".partial"):
                    zf.write(file, file.relative_to(staging).as_posix())
        os.replace(tmp, self.local)
        shutil.rmtree(staging, ignore_errors=True)

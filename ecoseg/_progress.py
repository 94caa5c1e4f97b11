"""Progress bars: the one maker of every ecoseg bar, :func:`progress_bar`.

In a Jupyter kernel with ``ipywidgets`` installed the bar is tqdm's widget; everywhere else,
a notebook without ``ipywidgets`` included, it is tqdm's text bar. ``tqdm.auto`` draws the same
text bar in a notebook without ``ipywidgets`` but first prints "IProgress not found. Please
update jupyter and ipywidgets" to every cell's user, who asked for no widgets (``ipywidgets``
is in none of ecoseg's extras); the check here is by name, so nothing is imported for it.
Another library's bars that come from ``tqdm.auto`` (``huggingface_hub``'s, downloading SAM 3)
follow the same rule where it is first imported within :func:`quiet_tqdm_auto`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["progress_bar", "quiet_tqdm_auto"]


def progress_bar(iterable: Any = None, **kwargs: Any):
    """A tqdm bar: the widget of ``tqdm.auto`` where ``ipywidgets`` is installed, else the text
    bar of ``tqdm.std`` (what ``tqdm.auto`` would draw, without its "IProgress not found"
    warning in a notebook).

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped as ``progress_bar(iterable)`` wraps it.
    **kwargs
        tqdm's options (``total``, ``desc``, ``unit``, ``disable``, ``leave``, ...).

    Returns
    -------
    tqdm.tqdm
        The bar (a context manager; an iterator when ``iterable`` is given).

    Examples
    --------
    >>> with progress_bar(total=3, desc="frames", disable=True) as bar:
    ...     bar.update(3)
    >>> list(progress_bar("abc", disable=True))
    ['a', 'b', 'c']
    """
    if importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(iterable, **kwargs)


@contextlib.contextmanager
def quiet_tqdm_auto() -> Iterator[None]:
    """Within, a first import of ``tqdm.auto`` (by another library: ``huggingface_hub``'s
    download bars) gives :func:`progress_bar`'s bar: in a Jupyter kernel without
    ``ipywidgets``, tqdm's text bar without the "IProgress not found" warning ``tqdm.auto``
    prints first; with ``ipywidgets``, its widget, as before. Also a decorator.

    Examples
    --------
    >>> with quiet_tqdm_auto():
    ...     from tqdm.auto import tqdm
    >>> with tqdm(total=1, disable=True) as bar:
    ...     bar.update(1)
    """
    with warnings.catch_warnings():
        if importlib.util.find_spec("ipywidgets") is None:
            warnings.filterwarnings("ignore", message="IProgress not found")
        yield

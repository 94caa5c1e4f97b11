"""Progress bars: the one maker of every ecoseg bar, :func:`progress_bar`.

In a Jupyter kernel with ``ipywidgets`` installed the bar is tqdm's widget; everywhere else,
a notebook without ``ipywidgets`` included, it is tqdm's text bar. ``tqdm.auto`` draws the same
text bar in a notebook without ``ipywidgets`` but first prints "IProgress not found. Please
update jupyter and ipywidgets" to every cell's user, who asked for no widgets (``ipywidgets``
is in none of ecoseg's extras); the check here is by name, so nothing is imported for it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["progress_bar"]


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

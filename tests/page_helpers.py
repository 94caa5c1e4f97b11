"""Reading the project's Markdown pages: the pages a user reads and their code blocks
(shared by ``tests/test_docs.py`` and ``tests/test_docs_agree.py``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def code_blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """``(first line, text)`` of each code block of ``language`` on a Markdown page."""
    found: list[tuple[int, str]] = []
    fence: str | None = None
    lines: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.lstrip().startswith("```"):
            lines.append(line)
        elif fence is None:
            fence, lines, start = line.strip("` ").lower(), [], number + 1
        else:
            if fence == language:
                found.append((start, "\n".join(lines)))
            fence = None
    return found

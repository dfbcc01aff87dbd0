"""Code comments that cite a document cite one in this repository, at a section it has.

The notes the code relies on live in docs/; a comment naming ``protocols.md §2.1`` that
pointed outside the repository (or at a section since renumbered) would send the next
reader nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("controller", "drivers", "simulators", "tests", "bench")
CITATION = re.compile(r"(?<![\w/.])((?:[\w.-]+/)*[\w-]+\.md)(?:'s)?(?:\s+§\s*([\d.]+))?")
SECTION_HEADING = re.compile(r"^#{2,4}\s+([\d.]+)\s", re.MULTILINE)


def _python_files() -> list[Path]:
    this = Path(__file__).resolve()
    return [p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py") if p.resolve() != this]


def _citations() -> list[tuple[Path, int, str, str | None]]:
    found = []
    for path in _python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in CITATION.finditer(line):
                found.append((path, number, match.group(1), match.group(2)))
    return found


def _sections(doc: Path) -> set[str]:
    return {
        m.group(1).rstrip(".") for m in SECTION_HEADING.finditer(doc.read_text(encoding="utf-8"))
    }


def test_cited_documents_are_in_the_repository() -> None:
    citations = [c for c in _citations() if c[2].split("/")[-1] in {"protocols.md", "domain.md"}]
    assert citations, "the scan found no citations at all: the pattern is broken"
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {doc}"
        for path, line, doc, _ in citations
        if not doc.startswith("docs/") or not (ROOT / doc).is_file()
    ]
    assert not wrong, "cite docs/<file>.md, which is in the repository:\n" + "\n".join(wrong)


def test_cited_sections_exist() -> None:
    sections = {doc: _sections(ROOT / doc) for doc in ("docs/protocols.md",)}
    wrong = []
    for path, line, doc, section in _citations():
        if doc in sections and section is not None:
            number = section.rstrip(".")
            if number not in sections[doc]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {doc} §{number}")
    assert not wrong, "these sections are not in the cited document:\n" + "\n".join(wrong)

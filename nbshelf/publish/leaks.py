"""The pre-publish scan: things in a notebook that should not leave the analyst's machine.

It warns; it does not block. What it looks for: absolute paths of this machine (they break
for every other reader and often name the user), user names in paths, and strings that look
like passwords, keys or tokens. The text it looks at is the notebook as it will be
published, so stripped outputs are not scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nbshelf.notebook import iter_cells

_HOME_PATH = re.compile(
    r"(?:/home/|/Users/|[A-Za-z]:\\\\?Users\\\\?)(?P<user>[A-Za-z0-9._-]+)[\\/][^\s'\"]*"
)
_ABSOLUTE_PATH = re.compile(
    r"(?<![\w.])(?:/(?:mnt|media|data|srv|opt|var|tmp|net|Volumes)/[^\s'\"]+"
    r"|[A-Za-z]:\\\\?[^\s'\"]+|\\\\\\\\[^\s'\"]+)"
)
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b(?P<name>[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|credential)s?[\w-]*)\b\s*[:=]\s*(?P<value>['\"][^'\"\s]{4,}['\"])"
)
_KNOWN_TOKENS = [
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "a GitHub token"),
    (re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"), "a Slack token"),
    (re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),
     "a JSON web token"),
]


@dataclass(frozen=True)
class Leak:
    """One warning: where, what kind, and a sentence a user can act on."""

    cell: int
    kind: str  # "local-path" | "user-name" | "credential"
    message: str

    def to_json(self) -> dict[str, Any]:
        """cell, kind and message."""
        return {"cell": self.cell, "kind": self.kind, "message": self.message}


def scan_for_leaks(nb: dict[str, Any]) -> list[Leak]:
    """Warnings for a notebook about to be published (pass the stripped notebook)."""
    found: list[Leak] = []
    for index, cell in enumerate(iter_cells(nb)):
        texts = [cell.source] + [_output_text(o) for o in cell.outputs]
        for text in texts:
            found.extend(_scan_text(index, text))
    unique: dict[tuple[int, str, str], Leak] = {(x.cell, x.kind, x.message): x for x in found}
    return list(unique.values())


def _scan_text(cell: int, text: str) -> list[Leak]:
    # ``cell`` is the index (the JSON's ``cell``, from 0); a person reads cells from 1
    shown = cell + 1
    leaks = []
    for match in _HOME_PATH.finditer(text):
        leaks.append(Leak(cell, "user-name",
                          f"cell {shown} has a path in the home folder of user "
                          f"'{match.group('user')}' ({_short(match.group())}): it names a "
                          "person and will not exist on other machines"))
    for match in _ABSOLUTE_PATH.finditer(text):
        if _HOME_PATH.match(match.group()):
            continue
        leaks.append(Leak(cell, "local-path",
                          f"cell {shown} uses the absolute path {_short(match.group())}, which "
                          "other readers will not have; a path relative to the notebook works "
                          "everywhere"))
    for match in _SECRET_ASSIGNMENT.finditer(text):
        leaks.append(Leak(cell, "credential",
                          f"cell {shown} sets {match.group('name')} to a literal value: it looks "
                          "like a password or key; remove it before sharing"))
    for pattern, what in _KNOWN_TOKENS:
        if pattern.search(text):
            leaks.append(Leak(cell, "credential",
                              f"cell {shown} contains what looks like {what}; remove it (and "
                              "revoke it if it is real) before sharing"))
    return leaks


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"


def _output_text(output: dict[str, Any]) -> str:
    from nbshelf.notebook.doctext import output_text

    return output_text(output)

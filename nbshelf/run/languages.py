"""Parameters cells written in the languages papermill translates other than Python.

Python parameters cells are read with ``ast`` (``nbshelf.run.parameters``). For R, Julia,
Scala, MATLAB, C#, F#, PowerShell and bash a parameters cell is read line by line: one
assignment per line, as papermill's translators write them (``alpha <- 0.5``,
``val alpha = 0.5``, ``$alpha = 0.5``, ``alpha=0.5``...), the comment at the end of the
line as its help, and a type from the literal (``TRUE`` is a bool in R, ``nothing`` is None
in Julia) or from a type annotation (``alpha::Float64``, ``val n: Int``, ``[int]$n``).
A line that is not a simple assignment is skipped: papermill itself cannot inspect these
languages, so this is a best effort that types ``-p`` values after their defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: nbshelf's language names (``normalize_language``) of the languages read here.
LINE_LANGUAGES = ("r", "julia", "scala", "matlab", "octave", "c#", "f#", "powershell", "bash")

_COMMENT = {"scala": "//", "c#": "//", "f#": "//", "matlab": "%", "octave": "%"}

_NAME = r"(?P<name>[A-Za-z_][\w]*)"
_ASSIGN = {
    "r": re.compile(r"^(?P<name>[A-Za-z.][\w.]*)\s*(?:<<-|<-|=(?!=))\s*(?P<value>.+?)\s*;?$"),
    "julia": re.compile(
        rf"^(?:const\s+)?{_NAME}\s*(?:::\s*(?P<ann>[\w{{}}.,\s]+?))?\s*=(?!=)\s*(?P<value>.+?)"
        r"\s*;?$"),
    "scala": re.compile(
        rf"^(?:val|var)\s+{_NAME}\s*(?::\s*(?P<ann>[^=]+?))?\s*=\s*(?P<value>.+?)\s*;?$"),
    "c#": re.compile(
        rf"^(?:var|const\s+(?P<cann>[\w<>\[\],?]+)|(?P<ann>[\w<>\[\],?]+))\s+{_NAME}\s*="
        r"\s*(?P<value>.+?)\s*;$"),
    "f#": re.compile(
        rf"^let\s+(?:mutable\s+)?{_NAME}\s*(?::\s*(?P<ann>[^=]+?))?\s*=\s*(?P<value>.+?)$"),
    "powershell": re.compile(
        rf"^(?:\[(?P<ann>[\w.]+)\]\s*)?\${_NAME}\s*=\s*(?P<value>.+?)\s*;?$"),
    "bash": re.compile(
        rf"^(?:export\s+|readonly\s+|local\s+|declare\s+(?:-\w+\s+)*)?{_NAME}=(?P<value>.*?)$"),
    "matlab": re.compile(rf"^{_NAME}\s*=(?!=)\s*(?P<value>.+?)\s*;?$"),
}
_ASSIGN["octave"] = _ASSIGN["matlab"]

_NONE = {
    "r": {"NULL", "NA"}, "julia": {"nothing", "missing"}, "scala": {"null", "None"},
    "c#": {"null"}, "f#": {"None", "null"}, "powershell": {"$null"}, "bash": {""},
    "matlab": {"[]"}, "octave": {"[]"},
}
_TRUE = {"r": {"TRUE", "T"}, "powershell": {"$true"}}
_FALSE = {"r": {"FALSE", "F"}, "powershell": {"$false"}}
_LIST_START = {
    "r": ("c(", "list("), "julia": ("[",), "scala": ("Seq(", "List(", "Array(", "Vector("),
    "c#": ("new [", "new List<", "new[", "{"), "f#": ("[", "[|"), "powershell": ("@(",),
    "bash": ("(",), "matlab": ("{", "["), "octave": ("{", "["),
}
_DICT_START = {
    "julia": ("Dict(",), "scala": ("Map(",), "c#": ("new Dictionary<",),
    "f#": ("Map.ofList", "dict ["), "powershell": ("@{",),
    "matlab": ("containers.Map(", "struct("), "octave": ("containers.Map(", "struct("),
}
_ANNOTATIONS = {
    "int": "int", "int8": "int", "int16": "int", "int32": "int", "int64": "int",
    "integer": "int", "long": "int", "short": "int", "bigint": "int",
    "float": "float", "float32": "float", "float64": "float", "double": "float",
    "single": "float", "decimal": "float", "numeric": "float", "real": "float",
    "bool": "bool", "boolean": "bool", "string": "str", "str": "str", "char": "str",
    "abstractstring": "str",
}
_INT = re.compile(r"^[+-]?\d+[Ll]?$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][+-]?\d+)?[fFdDmM]?$")


@dataclass(frozen=True)
class Assignment:
    """One assignment read from a parameters cell line."""

    name: str
    default: str
    type: str
    help: str


def split_comment(line: str, marker: str) -> tuple[str, str]:
    """A line as (code, comment text): the comment starts at the first ``marker`` outside
    single or double quotes; the comment text has the marker and the spaces around removed.
    """
    quote = ""
    i = 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif line.startswith(marker, i):
            return line[:i], line[i + len(marker):].strip()
        i += 1
    return line, ""


def parse_lines(source: str, language: str) -> list[Assignment]:
    """The one-line assignments of a parameters cell in ``language`` (a ``LINE_LANGUAGES``
    name), in order; a name assigned twice keeps its last default."""
    pattern = _ASSIGN.get(language)
    if pattern is None:
        return []
    marker = _COMMENT.get(language, "#")
    found: dict[str, Assignment] = {}
    for line in source.splitlines():
        code, comment = split_comment(line, marker)
        if language == "f#" and "(*" in code:  # (* a comment *) at the end
            code, _, rest = code.partition("(*")
            comment = comment or rest.replace("*)", "").strip()
        match = pattern.match(code.strip())
        if match is None:
            continue
        value = match.group("value").strip()
        groups = match.groupdict()
        annotation = groups.get("ann") or groups.get("cann")
        name = match.group("name")
        found.pop(name, None)
        found[name] = Assignment(name, value, _type_of(value, annotation, language), comment)
    return list(found.values())


def _type_of(value: str, annotation: str | None, language: str) -> str:
    if annotation:
        kind = _ANNOTATIONS.get(annotation.strip().lower().rstrip("?"))
        if kind is not None:
            return kind
    bare = value.rstrip(";").strip()
    folded = bare.lower() if language == "powershell" else bare
    if folded in _NONE.get(language, set()):
        return "None"
    if folded in _TRUE.get(language, {"true"}) or folded in _FALSE.get(language, {"false"}):
        return "bool"
    if _INT.match(bare):
        return "int"
    if _FLOAT.match(bare):
        return "float"
    if len(bare) >= 2 and bare[0] == bare[-1] and bare[0] in "\"'":
        return "str"
    if language == "bash" and re.fullmatch(r"[^\s$`(){}\[\]|&;<>]+", bare):
        return "str"  # an unquoted word
    if language == "r" and bare.startswith("list(") and re.search(r"[\w.]\s*=", bare):
        return "dict"  # list(a = 1): a named list
    if any(bare.startswith(start) for start in _DICT_START.get(language, ())):
        return "dict"
    if any(bare.startswith(start) for start in _LIST_START.get(language, ())):
        return "list"
    return "expression"

"""How nbshelf writes a size and a language for people: one form for the app, its pages and
the command line, so that two places never disagree about the same notebook."""

from __future__ import annotations

#: Language names as their own communities write them, by nbshelf's normalized name
#: (``nbshelf.notebook.reading.normalize_language``).
LANGUAGE_NAMES = {
    "python": "Python", "r": "R", "julia": "Julia", "c#": "C#", "f#": "F#",
    "powershell": "PowerShell", "c++": "C++", "scala": "Scala", "kotlin": "Kotlin",
    "go": "Go", "rust": "Rust", "haskell": "Haskell", "ruby": "Ruby", "octave": "Octave",
    "sql": "SQL", "bash": "Bash", "javascript": "JavaScript", "typescript": "TypeScript",
    "java": "Java", "matlab": "MATLAB", "sas": "SAS", "stata": "Stata", "scheme": "Scheme",
    "clojure": "Clojure", "groovy": "Groovy", "lua": "Lua", "perl": "Perl", "php": "PHP",
    "ocaml": "OCaml", "elixir": "Elixir", "erlang": "Erlang", "fortran": "Fortran",
    "prolog": "Prolog", "coconut": "Coconut", "wolfram language": "Wolfram Language",
    "mathematica": "Mathematica", "maxima": "Maxima", "sage": "Sage", "gnuplot": "gnuplot",
    "zsh": "Zsh", "markdown": "Markdown",
}


def size(num_bytes: int | None) -> str:
    """``3.9 MB``: powers of 1000, as file managers and disk makers count (``1,234 bytes``
    below a kilobyte); empty for None."""
    if num_bytes is None:
        return ""
    if num_bytes < 1000:
        return f"{num_bytes:,} byte{'' if num_bytes == 1 else 's'}"
    value = float(num_bytes)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"  # not reached: the loop ends at TB


def language_name(name: str | None) -> str:
    """A notebook's language as people write it (``Python``, ``C#``, ``PowerShell``); an
    unknown one with a capital first letter; empty for None."""
    if not name:
        return ""
    known = LANGUAGE_NAMES.get(name.strip().lower())
    if known is not None:
        return known
    name = name.strip()
    return name[:1].upper() + name[1:] if name.islower() else name

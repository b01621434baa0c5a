"""The kernels a notebook can run in here, and which one a notebook gets.

Installed kernels are Jupyter kernelspecs found the usual way (jupyter_client's
``KernelSpecManager``: the user's, this environment's and the system's kernel folders). Beside
them nbshelf always offers a Python kernel of its own, so a fresh install runs Python notebooks
with nothing else set up: the running interpreter with ``-m ipykernel_launcher``. Only
``own_kernel_argv`` knows how that kernel starts; a PyInstaller bundle changes that one function.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nbshelf.errors import KernelMissing, NbshelfError
from nbshelf.notebook import normalize_language
from nbshelf.units import LANGUAGE_NAMES

#: The kernelspec name of nbshelf's own Python kernel.
OWN_KERNEL_NAME = "nbshelf-python3"
#: How the UI and the messages call it.
OWN_KERNEL_DISPLAY_NAME = "Python 3 (nbshelf)"
#: The flag that makes a bundle's executable run as that kernel (``nbshelf.cli.main.main``).
OWN_KERNEL_FLAG = "--kernel"

# The names jupyter_client replaces with the running interpreter in a kernelspec's argv.
_PYTHON_ALIASES = {"python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"}


def own_kernel_argv() -> list[str]:
    """The command that starts nbshelf's own Python kernel.

    ``{connection_file}`` is filled in by jupyter_client. In a PyInstaller bundle this becomes
    the bundle's executable with a flag that makes it run ipykernel (``run_own_kernel``);
    nothing else changes.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, OWN_KERNEL_FLAG, "-f", "{connection_file}"]
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def run_own_kernel(argv: list[str]) -> int:
    """Run this process as nbshelf's own ipykernel: what a bundle does with ``--kernel``.

    The same as ``python -m ipykernel_launcher ARGV``: a bundle has no interpreter to give
    ``-m`` to, so it starts itself with the flag and ends up here. The kernel's working folder
    (the notebook's) goes first on ``sys.path`` once ipykernel is loaded, as in any kernel: a
    bundle's interpreter runs with ``safe_path``, so IPython would not add it.

    Args:
        argv: the arguments after the flag (``-f CONNECTION_FILE``...).
    """
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher: no module of the notebook's folder shadows ours
    sys.argv = [sys.argv[0], *argv]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(list(argv))
    if "" not in sys.path:
        sys.path.insert(0, "")
    app.start()
    return 0


def _frozen_argv(argv: list[str], resource_dir: str | None) -> list[str]:
    """An installed kernel's command when nbshelf runs from a PyInstaller bundle.

    jupyter_client reads a bare ``python``/``python3`` as "the running interpreter", which in
    a bundle is nbshelf itself. Such a kernelspec (ipykernel's own wheel and distributions
    ship them) means the Python of the environment it was installed in: ``<prefix>/bin`` of
    its ``<prefix>/share/jupyter/kernels/NAME`` folder when there is one, else the PATH's.
    """
    if not getattr(sys, "frozen", False) or not argv or argv[0] not in _PYTHON_ALIASES:
        return argv
    candidates = []
    if resource_dir:
        prefix = Path(resource_dir).parents[3] if len(Path(resource_dir).parts) > 4 else None
        if prefix is not None:
            folder = "Scripts" if os.name == "nt" else "bin"
            candidates.append(str(prefix / folder / argv[0]))
    candidates.append(shutil.which(argv[0]) or "")
    for program in candidates:
        if program and os.path.isfile(program) and os.access(program, os.X_OK):
            return [program, *argv[1:]]
    return argv


def _frozen_env(env: dict[str, str]) -> dict[str, str]:
    """An installed kernel's environment when nbshelf runs from a PyInstaller bundle.

    The bundle's loader points ``LD_LIBRARY_PATH`` at the bundle's own libraries (keeping the
    user's value in ``LD_LIBRARY_PATH_ORIG``); a kernel installed on the machine must load its
    own, so it gets the user's value back (empty when there was none: glibc ignores it).
    """
    if not getattr(sys, "frozen", False) or not sys.platform.startswith("linux"):
        return env
    if "LD_LIBRARY_PATH" in env:
        return env
    return {**env, "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH_ORIG", "")}


@dataclass(frozen=True)
class KernelChoice:
    """A kernel that can be started, as a kernelspec plus what nbshelf knows about it.

    Attributes:
        name: the kernelspec name (``python3``, ``ir``, ``nbshelf-python3``).
        display_name: the name people see ("Python 3 (ipykernel)").
        language: nbshelf's normalized language name (``python``, ``r``...), or None.
        argv: the kernelspec's command, with ``{connection_file}`` still in it.
        env: extra environment variables the kernelspec sets.
        interrupt_mode: ``signal`` or ``message``, as the kernelspec says.
        resource_dir: the kernelspec's folder; None for nbshelf's own kernel.
        own: True for nbshelf's own Python kernel.
        replaces: the notebook's kernel name when this kernel was chosen by language instead.
    """

    name: str
    display_name: str
    language: str | None
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    interrupt_mode: str = "signal"
    resource_dir: str | None = None
    own: bool = False
    replaces: str | None = None

    @property
    def label(self) -> str:
        """"Display name (name)", as messages list kernels."""
        return f"{self.display_name} ({self.name})"

    def kernelspec_metadata(self) -> dict[str, str]:
        """The ``metadata.kernelspec`` a notebook run in this kernel carries."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "language": self.language or "",
        }


def own_kernel() -> KernelChoice:
    """nbshelf's own Python kernel: the interpreter nbshelf runs in, with ipykernel."""
    return KernelChoice(
        name=OWN_KERNEL_NAME,
        display_name=OWN_KERNEL_DISPLAY_NAME,
        language="python",
        argv=tuple(own_kernel_argv()),
        own=True,
    )


def installed_kernels() -> list[KernelChoice]:
    """Every kernel that can run here: installed kernelspecs by name, then nbshelf's own."""
    from jupyter_client.kernelspec import KernelSpecManager

    # ensure_native_kernel would add a "python3" pointing at sys.executable even where no such
    # spec is installed; nbshelf's own kernel already plays that part, under its own name.
    manager = KernelSpecManager(ensure_native_kernel=False)
    found: list[KernelChoice] = []
    for name, entry in sorted(manager.get_all_specs().items()):
        spec: dict[str, Any] = entry.get("spec") or {}
        argv = spec.get("argv") or []
        if not isinstance(argv, list) or not argv or name == OWN_KERNEL_NAME:
            continue
        env = spec.get("env") or {}
        found.append(
            KernelChoice(
                name=name,
                display_name=str(spec.get("display_name") or name),
                language=normalize_language(spec.get("language")),
                argv=tuple(_frozen_argv([str(a) for a in argv], entry.get("resource_dir"))),
                env=_frozen_env(
                    {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}
                ),
                interrupt_mode=str(spec.get("interrupt_mode") or "signal"),
                resource_dir=str(entry.get("resource_dir") or "") or None,
            )
        )
    found.append(own_kernel())
    return found


def get_kernel(name: str, kernels: list[KernelChoice] | None = None) -> KernelChoice:
    """The installed kernel called ``name`` (case-insensitive), with no fallback.

    Raises:
        KernelMissing: no kernel of that name is installed.
    """
    kernels = installed_kernels() if kernels is None else kernels
    for kernel in kernels:
        if kernel.name.lower() == name.lower():
            return kernel
    raise KernelMissing(name, None, [k.label for k in kernels])


def choose_kernel(
    kernel_name: str | None,
    language: str | None,
    kernels: list[KernelChoice] | None = None,
) -> KernelChoice:
    """The kernel a notebook runs in here.

    The notebook's own kernelspec name when it is installed; else a kernel for its language
    (for Python: ``python3`` if installed, then nbshelf's own kernel, then any other Python
    kernel); a notebook that names neither runs in Python.

    Args:
        kernel_name: ``metadata.kernelspec.name`` of the notebook, or None.
        language: the notebook's language (any spelling; normalized here), or None.
        kernels: the installed kernels, to avoid listing them again in a batch.

    Raises:
        KernelMissing: nothing installed runs the notebook's kernel or language; the message
            names both and lists the installed kernels.
    """
    kernels = installed_kernels() if kernels is None else kernels
    if kernel_name:
        for kernel in kernels:
            if kernel.name.lower() == kernel_name.lower():
                return kernel
    wanted = normalize_language(language) or normalize_language(kernel_name)
    if wanted is None and not kernel_name:
        wanted = "python"
    candidates = [k for k in kernels if wanted is not None and k.language == wanted]
    if candidates:
        candidates.sort(key=lambda k: (k.name != "python3", not k.own, k.name))
        chosen = candidates[0]
        if kernel_name:
            chosen = replace(chosen, replaces=kernel_name)
        return chosen
    raise KernelMissing(kernel_name, language_label(wanted), [k.label for k in kernels])


def language_label(language: str | None) -> str | None:
    """A normalized language name as people write it: ``r`` → ``R`` (the names of
    ``nbshelf.units``, which the list and the page show)."""
    if language is None:
        return None
    return LANGUAGE_NAMES.get(language, language)


def kernel_python(kernel: KernelChoice) -> str | None:
    """The Python interpreter a Python kernel runs in, or None when it cannot be told.

    That is the first word of the kernelspec's command when it is a Python interpreter started
    with ipykernel (``python`` alone means the running interpreter, as jupyter_client reads
    it). Kernels started through a wrapper (``conda run``, a shell script) give None.
    """
    if kernel.own:
        return sys.executable
    if kernel.language != "python" or not kernel.argv:
        return None
    program = kernel.argv[0]
    if program in _PYTHON_ALIASES:
        return sys.executable
    starts_ipykernel = any(a.startswith("ipykernel") for a in kernel.argv[1:4])
    if not starts_ipykernel or not Path(program).name.lower().startswith("python"):
        return None
    program = os.path.expanduser(program)
    if os.path.isabs(program):
        return program
    return shutil.which(program, path=kernel.env.get("PATH"))


#: What a user asks IT to install to run notebooks of a language here, by language.
_KERNEL_PACKAGES = {
    "r": "the R kernel (IRkernel)", "julia": "the Julia kernel (IJulia)",
    "python": "a Python kernel (ipykernel)", "c#": "the .NET Interactive kernel",
    "f#": "the .NET Interactive kernel", "powershell": "the .NET Interactive kernel",
    "scala": "the Scala kernel (Almond)", "c++": "the C++ kernel (xeus-cling)",
    "bash": "the Bash kernel (bash_kernel)", "sql": "a SQL kernel",
    "octave": "the Octave kernel (octave_kernel)", "java": "the Java kernel (IJava)",
}


class KernelLanguageMismatch(NbshelfError):
    """A kernel of one language was asked to run a notebook written in another.

    Its code would fail there at its first line (R code in Python is a SyntaxError), and
    the failed run would be recorded as the notebook's own. Refused unless the caller insists.

    Attributes:
        kernel: the kernel asked for.
        language: the notebook's language (normalized).
    """

    def __init__(self, kernel: KernelChoice, language: str) -> None:
        written = language_label(language)
        runs = language_label(kernel.language) or "another language"
        super().__init__(
            f"This notebook is written in {written}, and the kernel {kernel.label} runs "
            f"{runs}: its code would fail there. Run it in {article(written)} {written} kernel "
            "instead."
        )
        self.kernel = kernel
        self.language = language


def article(word: str | None) -> str:
    """``a`` or ``an`` before a language name as it is said: an R kernel, a Python kernel."""
    said_with_a_vowel = {"R", "F#"}  # "ar", "ef"
    if word and (word[0].upper() in "AEIO" or word in said_with_a_vowel):
        return "an"
    return "a"


def speaks(kernel: KernelChoice, language: str | None) -> bool:
    """True when ``kernel`` runs code of ``language`` (any spelling), or either is unknown."""
    wanted = normalize_language(language)
    return wanted is None or kernel.language is None or kernel.language == wanted


def check_language(kernel: KernelChoice, language: str | None, *,
                   any_language: bool = False) -> None:
    """Refuse to run a notebook of ``language`` in a kernel of another language.

    Args:
        kernel: the kernel chosen (by name, or for the notebook).
        language: the notebook's language (any spelling), or None when it names none.
        any_language: the user insists on running it there anyway.

    Raises:
        KernelLanguageMismatch: the languages differ and the user did not insist.
    """
    wanted = normalize_language(language)
    if not any_language and wanted is not None and not speaks(kernel, wanted):
        raise KernelLanguageMismatch(kernel, wanted)


def kernels_for(language: str | None, kernels: list[KernelChoice]) -> list[KernelChoice]:
    """The installed kernels that run ``language``, the one ``choose_kernel`` prefers first;
    all of them when the language is unknown."""
    wanted = normalize_language(language)
    fitting = [k for k in kernels if wanted is None or k.language == wanted]
    return sorted(fitting, key=lambda k: (k.name != "python3", not k.own, k.name))


def no_kernel_sentence(language: str | None, kernel_name: str | None = None) -> str:
    """Why a notebook cannot run here and what to do, in plain words for the window.

    "This notebook is written in R, and no R kernel is installed on this computer. Ask your
    IT support to install the R kernel (IRkernel) on it."
    """
    wanted = normalize_language(language)
    if wanted is None:
        named = f"the kernel “{kernel_name}”" if kernel_name else "a kernel"
        return (f"This notebook asks for {named}, which is not installed on this computer, "
                "and does not say which language it is written in. Ask your IT support to "
                "install its kernel.")
    written = language_label(wanted) or wanted
    package = _KERNEL_PACKAGES.get(wanted, f"{article(written)} {written} kernel")
    return (f"This notebook is written in {written}, and no {written} kernel is installed on "
            f"this computer. Ask your IT support to install {package}.")

"""The library's runs (``lib.running``): which kernel a notebook runs in, its parameters,
running a copy of it with the run recorded in the run book, and preparing a copy with its
parameters without running it (papermill's ``--prepare-only``: nothing recorded)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbshelf.errors import KernelMissing, NbshelfError
from nbshelf.run.runbook import RunBook, RunInfo, RunPlan, check_output

if TYPE_CHECKING:
    # jupyter_client and nbclient load with the first run, off the app's start path
    from nbshelf.run.execution import CellEvent, RunResult
    from nbshelf.run.kernels import KernelChoice
    from nbshelf.run.parameters import Parameter
    from nbshelf.run.record import PreparedNotebook


class Running:
    """Runs notebooks and keeps their records; ids in, records out."""

    def __init__(self, runbook: RunBook) -> None:
        self.runbook = runbook

    @staticmethod
    def kernels() -> list[KernelChoice]:
        """The kernels a notebook can run in here (nbshelf's own Python kernel included)."""
        from nbshelf.run.kernels import installed_kernels

        return installed_kernels()

    @staticmethod
    def kernel_for(kernel: str | None, kernel_name: str | None, language: str | None
                   ) -> KernelChoice:
        """``kernel`` by name, else the notebook's own or one for its language
        (``KernelMissing`` names what is missing and what is installed)."""
        from nbshelf.run.kernels import choose_kernel, get_kernel

        return get_kernel(kernel) if kernel else choose_kernel(kernel_name, language)

    @staticmethod
    def parameters(data: bytes) -> list[Parameter]:
        """A notebook's papermill parameters (name, type, default, help) for a form or a
        listing. Reads the JSON only (no nbformat, no papermill): ``show`` lists them too."""
        import orjson

        from nbshelf.run.parameters import notebook_parameters

        try:
            nb = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:
            return []
        if not isinstance(nb, dict) or not isinstance(nb.get("nbformat"), int) or (
                nb["nbformat"] < 4):
            return []  # before v4 no cell had tags, so none is the parameters cell
        return notebook_parameters(nb)

    def begin(self, notebook_id: int, choice: KernelChoice, *,
              parameters: dict[str, str] | None, cell_timeout: float | None,
              stop_on_error: bool, values: dict[str, Any] | None = None,
              output: str | Path | None = None, any_language: bool = False) -> RunPlan:
        """Record a run as started; ``RunBook.execute(plan)`` then runs it on any thread.

        Raises:
            KernelLanguageMismatch: ``choice`` runs another language than the notebook's and
                ``any_language`` is not set (nothing is recorded).
        """
        return self.runbook.begin(notebook_id, choice, parameters=parameters,
                                  cell_timeout=cell_timeout, stop_on_error=stop_on_error,
                                  values=values, output=output, any_language=any_language)

    def prepare(self, notebook_id: int, output: str | Path, *, kernel: str | None = None,
                parameters: dict[str, str] | None = None,
                values: dict[str, Any] | None = None) -> PreparedNotebook:
        """Write the notebook's current version with its parameters injected to ``output``,
        without running it; no kernel need be installed and no run is recorded.

        ``kernel`` names the kernel to translate the parameters for (default: the notebook's
        own, as papermill's ``-k``); an installed kernel of that name also gives its language.

        Raises:
            ParameterError: the parameters do not fit, or papermill cannot write them.
            NbshelfError: ``output`` is the notebook itself, a folder, or cannot be written.
        """
        from nbshelf.run.kernels import get_kernel
        from nbshelf.run.record import prepare_notebook

        data, source_file = self.runbook.source_of(notebook_id)
        out = check_output(output, source_file)
        language = None
        if kernel:
            try:
                language = get_kernel(kernel).language
            except KernelMissing:
                language = None  # only its name, as papermill's -k: enough for translating
        return prepare_notebook(data, out, input_path=str(source_file) if source_file else None,
                                kernel_name=kernel, language=language, parameters=parameters,
                                values=values)

    def finish(self, plan: RunPlan, result: RunResult | None, error: str | None = None) -> None:
        """Record how a run ended."""
        self.runbook.finish(plan, result, error)

    def execute(self, plan: RunPlan, *, on_event: Callable[[CellEvent], None] | None = None,
                cancel: threading.Event | None = None) -> RunResult:
        """Run a begun plan and record how it ended, however it ends."""
        try:
            result = RunBook.execute(plan, on_event=on_event, cancel=cancel)
        except NbshelfError as err:
            self.finish(plan, None, str(err))
            raise
        except BaseException:
            self.finish(plan, None, "the run was stopped")
            raise
        self.finish(plan, result)
        return result

    def runs(self, notebook_id: int) -> list[RunInfo]:
        """A notebook's runs, newest first."""
        return self.runbook.list(notebook_id)

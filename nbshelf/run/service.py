"""The library's runs (``lib.running``): which kernel a notebook runs in, its parameters,
and running a copy of it with the run recorded in the run book."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from nbshelf.errors import NbshelfError
from nbshelf.run.runbook import RunBook, RunInfo, RunPlan

if TYPE_CHECKING:
    # jupyter_client and nbclient load with the first run, off the app's start path
    from nbshelf.run.execution import CellEvent, RunResult
    from nbshelf.run.kernels import KernelChoice
    from nbshelf.run.parameters import Parameter


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
        """A notebook's papermill parameters (name, default, type) for a form."""
        from nbshelf.run.execution import read_for_run
        from nbshelf.run.parameters import notebook_parameters

        return notebook_parameters(read_for_run(data))

    def begin(self, notebook_id: int, choice: KernelChoice, *,
              parameters: dict[str, str] | None, cell_timeout: float | None,
              stop_on_error: bool) -> RunPlan:
        """Record a run as started; ``RunBook.execute(plan)`` then runs it on any thread."""
        return self.runbook.begin(notebook_id, choice, parameters=parameters,
                                  cell_timeout=cell_timeout, stop_on_error=stop_on_error)

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

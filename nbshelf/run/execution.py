"""Running a copy of a notebook in a local kernel, cell by cell, into a run record.

``run_notebook`` takes a notebook's bytes (the library's copy is never touched), starts the
chosen kernel with the working directory the caller gives (the notebook's folder, so relative
data files load as in Jupyter), runs the code cells one at a time through nbclient's cell
execution and reports each cell as it goes (started, every output as it arrives, finished or
error). After every cell the executed copy — outputs so far, the run's metadata under
``metadata.nbshelf.run`` and papermill's notebook and cell metadata (``nbshelf.run.record``) —
is written atomically to the record path (and to the ``output`` copy the caller asked for), so
a runner killed at any moment leaves the cells it had done. Parameters are injected as
papermill injects them, for every language papermill translates; papermill's error banners
left in the notebook are dropped, and a run that fails at a cell gets papermill's banners.

The kernel is started and stopped by one context manager: it is shut down however the run
ends (success, error, timeout, cancel, an exception, Ctrl-C). On Linux the kernel process is
also started so that the system kills it when the runner dies (``PR_SET_PDEATHSIG``): ipykernel
polls its parent only once a second, not at all while a C call holds the GIL, and other kernels
(IRkernel) never do, so a SIGKILLed runner would otherwise leave kernels behind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from nbshelf.run import record as pm
from nbshelf.run.kernels import KernelChoice
from nbshelf.run.parameters import jsonable, merge_parameters, notebook_language
from nbshelf.run.record import read_for_run  # here for its callers since it moved
from nbshelf.store import atomic_write

if TYPE_CHECKING:
    from jupyter_client.asynchronous import AsyncKernelClient
    from nbformat import NotebookNode

    from nbshelf.health.checks import RunSummary

log = logging.getLogger(__name__)

#: How long a kernel may take to start and answer its first request.
STARTUP_TIMEOUT = 60.0
#: How long an interrupted cell may take to stop before the kernel is killed instead.
INTERRUPT_GRACE = 3.0
#: How long a finished run's kernel may take to shut down cleanly before it is killed.
SHUTDOWN_WAIT = 3.0
_CANCEL_POLL = 0.05

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_T = TypeVar("_T")


@dataclass(frozen=True)
class CellEvent:
    """What happened to one cell, as the UI shows it live.

    ``kind`` is ``started``, ``output`` (one per output, as it arrives), then exactly one of
    ``finished`` or ``error`` (an exception, a timeout, a cancel). Events are sent from the
    thread that runs the notebook: a Qt caller forwards them through a queued signal.

    Attributes:
        kind: ``started``, ``output``, ``finished`` or ``error``.
        index: the cell's index in the notebook given to ``run_notebook``; None for the
            injected parameters cell, which only the record has.
        record_index: the cell's index in the run record.
        output: for ``output``, the nbformat output dict.
        outputs: for ``finished``/``error``, the cell's final outputs (after any
            ``clear_output`` and display updates).
        error: for ``error``, ``"ZeroDivisionError: division by zero"``-style text.
        traceback: for ``error``, the traceback as plain text (no terminal colours).
        execution_count: the kernel's prompt number, when known.
        source: for ``started``, the code the cell runs (a live view shows it above its
            outputs; the injected parameters cell's is only in the record).
    """

    kind: str
    index: int | None
    record_index: int
    output: dict[str, Any] | None = None
    outputs: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    traceback: str | None = None
    execution_count: int | None = None
    source: str = ""


@dataclass(frozen=True)
class RunResult:
    """How a run ended.

    Attributes:
        status: ``ok``, ``error``, ``timeout`` or ``cancelled``.
        cells_run: code cells of the notebook sent to the kernel (the injected parameters
            cell not counted; a cell that failed, timed out or was interrupted counted).
        failed_cell: 0-based index, in the notebook given, of the first cell that failed,
            timed out or was interrupted; None when none did (or the kernel did not start).
        error: ``"ZeroDivisionError: division by zero"``-style text, or None.
        traceback: the failing cell's traceback as plain text, or None.
        record: the run record (executed notebook) path.
        started: when the run started (UTC).
        ended: when it ended (UTC).
        kernel: the kernelspec name of the kernel used.
        kernel_display_name: its display name.
        parameters: the typed parameter values injected.
        output: the copy of the record the caller asked for (``-o``), or None.
    """

    status: str
    cells_run: int
    failed_cell: int | None
    error: str | None
    traceback: str | None
    record: Path
    started: datetime
    ended: datetime
    kernel: str
    kernel_display_name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every cell ran without error."""
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        """The ``nbshelf run --json`` object (DESIGN.md), plus times, kernel and parameters."""
        return {
            "status": self.status,
            "cells_run": self.cells_run,
            "failed_cell": self.failed_cell,
            "error": self.error,
            "record": str(self.record),
            "traceback": self.traceback,
            "started": self.started.isoformat(timespec="seconds"),
            "ended": self.ended.isoformat(timespec="seconds"),
            "kernel": self.kernel,
            "parameters": {k: jsonable(v) for k, v in self.parameters.items()},
            "output": str(self.output) if self.output is not None else None,
        }

    def summary(self) -> RunSummary:
        """The part of the result that health statuses are decided from."""
        from nbshelf.health.checks import RunSummary

        return RunSummary(
            status=self.status, ended=self.ended, failed_cell=self.failed_cell, error=self.error
        )


def run_notebook(
    nb_bytes: bytes,
    *,
    cwd: Path,
    record_path: Path,
    kernel: KernelChoice,
    parameters: dict[str, str] | None = None,
    cell_timeout: float | None = None,
    stop_on_error: bool = True,
    on_event: Callable[[CellEvent], None] | None = None,
    cancel: threading.Event | None = None,
    values: dict[str, Any] | None = None,
    input_path: str | None = None,
    output: Path | None = None,
) -> RunResult:
    """Run a copy of a notebook in a new kernel and write its run record.

    Blocks until the run ends; run it on a worker thread from a UI. A run that fails (an
    error in a cell, a timeout, a cancel, a kernel that dies or does not start) is a result,
    not an exception.

    Args:
        nb_bytes: the notebook file's bytes.
        cwd: the kernel's working directory (the notebook's folder, or a run folder).
        record_path: where the run record goes; its folder is created if needed.
        kernel: the kernel to run in (``nbshelf.run.kernels.choose_kernel``).
        parameters: parameter values as typed by the user; typed after the defaults of the
            notebook's ``parameters`` cell and injected as papermill does.
        values: parameter values already typed (read from YAML), injected as given;
            ``parameters`` win over them.
        input_path: the notebook's own path, for ``metadata.papermill.input_path``.
        output: a second file to write the record to (``-o``); its folder must exist.
        cell_timeout: seconds one cell may run; None for no limit. A cell that times out
            ends the run (the kernel is killed), whatever ``stop_on_error`` says.
        stop_on_error: stop at the first cell that raises (else run on, status still "error").
        on_event: called with each ``CellEvent``, on the running thread.
        cancel: set it (from any thread) to interrupt the running cell and stop.

    Raises:
        NotebookInvalid: the bytes are not a notebook that can be run.
        ParameterError: the parameters do not fit the notebook (raised before any kernel
            starts).
        KeyboardInterrupt: Ctrl-C in a command line run, after the kernel was shut down and
            the record written with status "cancelled".
    """
    nb = read_for_run(nb_bytes)
    typed = merge_parameters(nb, texts=parameters, values=values,
                             language=notebook_language(nb) or kernel.language)
    run = _Run(
        nb, cwd=cwd, record_path=record_path, kernel=kernel, parameters=typed,
        cell_timeout=cell_timeout, stop_on_error=stop_on_error, on_event=on_event,
        cancel=cancel or threading.Event(), input_path=input_path, output=output,
    )
    return _run_coroutine(run.run)


def _run_coroutine(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to the end from synchronous code, even under a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    # A caller inside an event loop (a notebook, an async test): run on a thread of our own,
    # which lives as long as the kernel does (the kernel dies with the thread that started it).
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nbshelf-run") as pool:
        return pool.submit(asyncio.run, factory()).result()


def _now() -> datetime:
    return datetime.now(UTC)


def _same_language(language: str | None, kernel: KernelChoice) -> bool:
    """True when the notebook's language (any spelling) is the kernel's, or either is unknown."""
    from nbshelf.notebook import normalize_language

    return kernel.language is None or normalize_language(language) in (None, kernel.language)


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _error_text(ename: str, evalue: str) -> str:
    return f"{ename}: {evalue}" if evalue else ename


class _Client(NotebookClient):
    """nbclient's cell execution, reporting every output to the run as it arrives."""

    def __init__(self, nb: NotebookNode, km: AsyncKernelManager, run: _Run, **kw: Any) -> None:
        super().__init__(nb, km=km, **kw)
        self._run = run

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        """Record an output (nbclient's own handling), then report it."""
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            self._run.emit("output", cell_index, output=dict(out))
        return out


class _OneKernelSpec(KernelSpecManager):
    """A kernelspec manager that knows one kernel: the one chosen for the run."""

    def __init__(self, kernel: KernelChoice, **kw: Any) -> None:
        super().__init__(**kw)
        self._spec = KernelSpec(
            argv=list(kernel.argv),
            name=kernel.name,
            display_name=kernel.display_name,
            language=kernel.language or "",
            env=dict(kernel.env),
            interrupt_mode=kernel.interrupt_mode,
            resource_dir=kernel.resource_dir or "",
        )

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        """The chosen kernel's spec, whatever name is asked for."""
        if kernel_name != self._spec.name:
            raise NoSuchKernel(kernel_name)
        return self._spec


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux kill the kernel when this process dies; None elsewhere.

    The death signal follows the *thread* that starts the kernel: ``run_notebook`` starts and
    stops the kernel on the one thread that runs it, which outlives the kernel.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the runner died between fork and prctl
            os._exit(1)

    return preexec


_FOLDER_PREFIX = "nbshelf-kernel-"


def remove_stale_kernel_folders(root: Path | None = None) -> int:
    """Remove the kernel folders of runners that died without cleaning up; return how many.

    Each kernel's connection file and sockets live in ``nbshelf-kernel-<runner pid>-*`` in the
    temporary folder; a runner killed outright leaves its folder behind.
    """
    removed = 0
    root = Path(tempfile.gettempdir()) if root is None else root
    for folder in root.glob(f"{_FOLDER_PREFIX}*-*"):
        pid_text = folder.name.removeprefix(_FOLDER_PREFIX).split("-", 1)[0]
        if not pid_text.isdigit() or _process_exists(int(pid_text)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell: leave it
    return True


class KernelSession:
    """A started kernel and its client, shut down when the ``async with`` block ends.

    The kernel is shut down cleanly when the block ends normally, killed at once (its whole
    process group) when it ends with an exception or when ``kill_on_exit`` is set. Its
    connection file and sockets live in a private temporary folder removed afterwards.
    """

    def __init__(self, kernel: KernelChoice, cwd: Path) -> None:
        self.kernel = kernel
        self.cwd = cwd
        self.kill_on_exit = False
        remove_stale_kernel_folders()
        self._folder = Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-"))
        # Unix sockets in a private folder: nothing listens on the network, and no warning
        # about unencrypted TCP. Windows has no ipc transport in every libzmq: loopback TCP.
        ipc = os.name == "posix"
        self.km = AsyncKernelManager(
            kernel_name=kernel.name,
            kernel_spec_manager=_OneKernelSpec(kernel),
            transport="ipc" if ipc else "tcp",
            ip=str(self._folder / "k") if ipc else "127.0.0.1",
            connection_file=str(self._folder / "kernel.json"),
            shutdown_wait_time=SHUTDOWN_WAIT,
            log=log,
        )
        self.kc: AsyncKernelClient | None = None

    async def start(self) -> None:
        """Start the kernel and wait for its first reply; on any failure it is gone again."""
        try:
            await self.km.start_kernel(cwd=str(self.cwd), preexec_fn=_die_with_parent())
            self.kc = self.km.client()
            self.kc.start_channels()
            await self.kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        except BaseException:
            await self.close(now=True)
            raise

    async def close(self, now: bool = False) -> None:
        """Shut the kernel down (``now``: kill it and its process group at once)."""
        try:
            if self.kc is not None:
                self.kc.stop_channels()
                self.kc = None
            if self.km.has_kernel:
                # shutdown_kernel also removes the connection file and closes the zmq context
                await self.km.shutdown_kernel(now=now)
            else:
                await self.km.cleanup_resources()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    async def __aenter__(self) -> KernelSession:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(now=self.kill_on_exit or exc_type is not None)

    @property
    def pid(self) -> int | None:
        """The kernel's process id, while it runs."""
        provisioner = self.km.provisioner
        return getattr(provisioner, "pid", None) if provisioner is not None else None

    async def interrupt(self) -> None:
        """Interrupt the running cell (SIGINT or an interrupt message, as the kernel wants)."""
        if self.km.has_kernel:
            await self.km.interrupt_kernel()


class _Run:
    """One run: the notebook copy, its record, its events and its outcome."""

    def __init__(
        self,
        nb: NotebookNode,
        *,
        cwd: Path,
        record_path: Path,
        kernel: KernelChoice,
        parameters: dict[str, Any],
        cell_timeout: float | None,
        stop_on_error: bool,
        on_event: Callable[[CellEvent], None] | None,
        cancel: threading.Event,
        input_path: str | None = None,
        output: Path | None = None,
    ) -> None:
        self.nb = nb
        self.cwd = cwd
        self.record_path = record_path
        self.input_path = input_path
        self.output = output
        self.kernel = kernel
        self.parameters = parameters
        self.cell_timeout = cell_timeout
        self.stop_on_error = stop_on_error
        self.on_event = on_event
        self.cancel = cancel
        self.started = _now()
        self.ended: datetime | None = None
        self.status = "running"
        self.cells_run = 0
        self.failed_cell: int | None = None
        self.error: str | None = None
        self.traceback: str | None = None
        self.cancel_requested = False
        self._replies: dict[int, dict[str, Any]] = {}
        self._step: asyncio.Future[Any] | None = None
        self._in_cell = False
        self._session: KernelSession | None = None
        self._failed_at: int | None = None  # record index of the first cell that failed
        self._prepare()

    # -- the copy and its record ------------------------------------------------------------

    def _prepare(self) -> None:
        """The copy as it will run: stale papermill banners dropped, outputs cleared,
        parameters injected for the kernel's language, papermill's metadata started."""
        # for each record cell, its index in the notebook given (None: the injected cell)
        self._origin: list[int | None] = list(pm.remove_error_banners(self.nb))
        for cell in self.nb.cells:
            if cell.get("cell_type") == "code":
                cell["outputs"] = []
                cell["execution_count"] = None
        own_language = notebook_language(self.nb)
        pm.papermill_metadata(self.nb, input_path=self.input_path,
                              output_path=str(self.output or self.record_path))
        before = len(self.nb.cells)
        self.injected = pm.parameterize(
            self.nb, self.parameters, kernel_name=self.kernel.name,
            # the kernel's language first: a notebook run in another language's kernel gets
            # that language's cell; then the notebook's own spelling, as papermill looks it up
            languages=[own_language if _same_language(own_language, self.kernel) else None,
                       self.kernel.language, own_language],
        )
        if self.injected is not None and len(self.nb.cells) > before:
            self._origin.insert(self.injected, None)
        self.nb.metadata["kernelspec"] = self.kernel.kernelspec_metadata()
        pm.notebook_started(self.nb, self.started)

    def original_index(self, record_index: int) -> int | None:
        """The index in the notebook given of a record cell (None for the injected cell)."""
        if 0 <= record_index < len(self._origin):
            return self._origin[record_index]
        return None

    def write_record(self) -> None:
        """Write the executed copy so far, with the run's metadata, atomically."""
        ended = self.ended.isoformat(timespec="seconds") if self.ended else None
        nbshelf_meta = self.nb.metadata.setdefault("nbshelf", nbformat.NotebookNode())
        nbshelf_meta["run"] = {
            "status": self.status,
            "started": self.started.isoformat(timespec="seconds"),
            "ended": ended,
            "kernel": self.kernel.name,
            "kernel_display_name": self.kernel.display_name,
            "parameters": {k: jsonable(v) for k, v in self.parameters.items()},
            "cells_run": self.cells_run,
            "failed_cell": self.failed_cell,
            "error": self.error,
            "traceback": self.traceback,
            "injected_cell": self.injected,
            "cwd": str(self.cwd),
            "runner_pid": os.getpid(),
            "output": str(self.output) if self.output is not None else None,
        }
        data = nbformat.v4.writes(self.nb).encode("utf-8")
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.record_path, data)
        if self.output is not None:
            pm.write_output(self.output, data)

    def _complete(self) -> None:
        """papermill's end of a run: times, statuses, and banners at the failing cell."""
        self.ended = _now()
        pm.notebook_completed(self.nb, self.started, self.ended)
        if self._failed_at is not None and self.status in ("error", "timeout"):
            pm.add_error_banners(self.nb, self._failed_at)
            self.injected = pm.injected_index(self.nb) if self.injected is not None else None

    def emit(self, kind: str, record_index: int, **fields: Any) -> None:
        """Send a ``CellEvent`` to the caller's callback, if any."""
        if self.on_event is None:
            return
        cell = self.nb.cells[record_index]
        self.on_event(
            CellEvent(
                kind=kind,
                index=self.original_index(record_index),
                record_index=record_index,
                execution_count=cell.get("execution_count"),
                **fields,
            )
        )

    # -- running ----------------------------------------------------------------------------

    def _cells_to_run(self) -> list[int]:
        return [
            i for i, cell in enumerate(self.nb.cells)
            if cell.get("cell_type") == "code"
            and cell.get("source", "").strip()
            and "skip-execution" not in cell.get("metadata", {}).get("tags", [])
        ]

    async def run(self) -> RunResult:
        """Start the kernel, run the cells, record everything; the kernel always stops."""
        self.write_record()
        watcher = asyncio.ensure_future(self._watch_cancel())
        try:
            await self._run_in_kernel()
        except asyncio.CancelledError:
            # Ctrl-C in a command line run (asyncio.run cancels us): stop like a cancel
            self._finish("cancelled", None, "Cancelled: the run was stopped", None)
            raise
        finally:
            watcher.cancel()
            if self.status == "running":  # an unexpected exception: still a finished record
                self.status = "error"
                self.error = self.error or "The run stopped because of an internal error"
            self._complete()
            self.write_record()
        return RunResult(
            status=self.status,
            cells_run=self.cells_run,
            failed_cell=self.failed_cell,
            error=self.error,
            traceback=self.traceback,
            record=self.record_path,
            started=self.started,
            ended=self.ended or _now(),
            kernel=self.kernel.name,
            kernel_display_name=self.kernel.display_name,
            parameters=dict(self.parameters),
            output=self.output,
        )

    async def _run_in_kernel(self) -> None:
        if self.cancel.is_set():
            self._finish("cancelled", None, "Cancelled before the kernel started", None)
            return
        session = KernelSession(self.kernel, self.cwd)
        self._session = session
        self._step = asyncio.ensure_future(session.start())
        try:
            await self._step
        except (asyncio.CancelledError, DeadKernelError):
            task = asyncio.current_task()
            if not self.cancel_requested or (task is not None and task.cancelling()):
                raise
            self._finish("cancelled", None, "Cancelled while the kernel was starting", None)
            return
        except (OSError, RuntimeError, TimeoutError, KeyError, ValueError) as err:
            # a missing program, a kernel that exits or never answers: the run's result
            self._finish(
                "error", None,
                f"KernelStartError: the kernel {self.kernel.label} could not start: {err}", None,
            )
            return
        try:
            client = _Client(
                self.nb, session.km, self,
                allow_errors=True,  # errors are judged here, with the reply in hand
                timeout_func=(lambda _cell: self.cell_timeout) if self.cell_timeout else None,
                on_cell_executed=self._on_executed,
                log=log,
            )
            client.kc = session.kc
            await self._language_info(client)
            await self._run_cells(client)
        except BaseException:
            await session.close(now=True)
            raise
        await session.close(now=self.status in ("timeout", "cancelled") or self.cancel_requested)

    async def _language_info(self, client: _Client) -> None:
        assert client.kc is not None
        reply = await client.async_wait_for_reply(client.kc.kernel_info())
        info = (reply or {}).get("content", {}).get("language_info")
        if info:
            self.nb.metadata["language_info"] = info

    def _on_executed(self, cell: NotebookNode, cell_index: int, execute_reply: Any) -> None:
        self._replies[cell_index] = execute_reply or {}

    async def _run_cells(self, client: _Client) -> None:
        runnable = set(self._cells_to_run())
        for record_index, cell in enumerate(self.nb.cells):
            if record_index not in runnable:  # papermill passes every cell: markdown too
                pm.cell_started(cell, _now())
                pm.cell_completed(cell, _now())
                continue
            if self.cancel.is_set() or self.cancel_requested:
                if self.error is None:
                    self._finish("cancelled", None, "Cancelled by the user", None)
                else:  # stop_on_error=False after a failure: keep the first failure
                    self.status = "cancelled"
                return
            if self.original_index(record_index) is not None:
                self.cells_run += 1
            pm.cell_started(cell, _now())
            self.emit("started", record_index, source=str(cell.get("source", "")))
            try:
                stop = await self._run_cell(client, cell, record_index)
            finally:
                pm.cell_completed(cell, _now())
            self.write_record()
            if stop:
                return
        if self.status == "running":
            self.status = "ok"

    async def _run_cell(self, client: _Client, cell: NotebookNode, record_index: int) -> bool:
        """Run one cell and report it; True when the run must stop."""
        self._in_cell = True
        self._step = asyncio.ensure_future(client.async_execute_cell(cell, record_index))
        try:
            await self._step
        except CellTimeoutError:
            text = f"Timeout: the cell did not finish within {self.cell_timeout:g} s"
            self._cell_failed("timeout", record_index, text, None)
            return True
        except (DeadKernelError, asyncio.CancelledError):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None  # Ctrl-C: handled by run()
            if self.cancel_requested:
                self._cell_failed("cancelled", record_index, "Cancelled by the user", None)
            else:
                text = (
                    "DeadKernelError: the kernel stopped while running this cell (it may have "
                    "crashed or run out of memory)"
                )
                self._cell_failed("error", record_index, text, None)
            return True
        finally:
            self._in_cell = False
        reply = self._replies.pop(record_index, {}).get("content", {})
        if reply.get("status") != "error":
            self.emit("finished", record_index, outputs=tuple(dict(o) for o in cell.outputs))
            return False
        error = _error_text(str(reply.get("ename", "Error")), str(reply.get("evalue", "")))
        traceback = _plain("\n".join(reply.get("traceback") or [])) or error
        if self.cancel_requested:
            self._cell_failed("cancelled", record_index, "Cancelled by the user", traceback)
            return True
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            self.emit("finished", record_index, outputs=tuple(dict(o) for o in cell.outputs))
            return False  # the notebook expects this error (Jupyter Book's convention)
        self._cell_failed("error", record_index, error, traceback)
        return self.stop_on_error

    def _cell_failed(
        self, status: str, record_index: int, error: str, traceback: str | None
    ) -> None:
        cell = self.nb.cells[record_index]
        pm.cell_failed(self.nb, cell)
        if self._failed_at is None:
            self._failed_at = record_index
        self.emit(
            "error", record_index, outputs=tuple(dict(o) for o in cell.outputs),
            error=error, traceback=traceback,
        )
        if self.failed_cell is None and self.error is None:
            self._finish(status, self.original_index(record_index), error, traceback)
        elif status != "error":
            self.status = status

    def _finish(
        self, status: str, failed_cell: int | None, error: str | None, traceback: str | None
    ) -> None:
        self.status = status
        self.failed_cell = failed_cell
        self.error = error
        self.traceback = traceback

    async def _watch_cancel(self) -> None:
        """Turn ``cancel`` being set into an interrupt, then, if that is ignored, a kill."""
        while not self.cancel.is_set():
            await asyncio.sleep(_CANCEL_POLL)
        self.cancel_requested = True
        if self._in_cell and self._session is not None:
            with contextlib.suppress(RuntimeError, OSError):  # a kernel gone needs no interrupt
                await self._session.interrupt()
            await asyncio.sleep(INTERRUPT_GRACE)
        if self._step is not None and not self._step.done():
            self._step.cancel()

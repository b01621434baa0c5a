"""The ``nbshelf`` command line: a thin layer over ``Library`` (contract in DESIGN.md).

Exit codes: 0 success, 1 a failure the user can act on (message on stderr, never a
traceback), 2 bad usage. With ``--json`` one JSON object goes to stdout whenever the command
ran, failures included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from nbshelf import __version__
from nbshelf.cli.text import human
from nbshelf.errors import NbshelfError, SimilarLearning, storage_error
from nbshelf.library import Library, open_library
from nbshelf.notebook.export import FORMATS as EXPORT_FORMATS
from nbshelf.sources.sync import SyncProgress

log = logging.getLogger("nbshelf")

#: Commands that only read: they work while another process holds the writer lock.
READ_ONLY = {"problems", "show", "history", "runs", "health", "kernels", "diff", "render",
             "search", "similar", "source list", "pack export", "export", "parameters"}
#: How long a command that writes waits for another writer to finish, by default (seconds).
DEFAULT_WAIT = 5.0


class CommandFailed(NbshelfError):
    """A command ran and failed; its JSON report is printed before the message."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="nbshelf", description="A library of Jupyter notebooks for isolated workstations."
    )
    parser.add_argument("--library", metavar="DIR", type=Path, help="the library folder to use")
    parser.add_argument("--version", action="version", version=f"nbshelf {__version__}")
    parser.add_argument(
        "--wait", metavar="SECONDS", type=float, default=DEFAULT_WAIT,
        help=f"how long a command that writes waits while another process writes to the "
             f"library (default {DEFAULT_WAIT:g})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    source = commands.add_parser("source", help="add, list, relocate or remove sources")
    source_cmds = source.add_subparsers(dest="source_command", metavar="ACTION", required=True)
    add = source_cmds.add_parser("add", help="add a folder (share, USB stick) as a source")
    add.add_argument("path")
    add.add_argument("--name")
    _json_flag(add)
    _json_flag(source_cmds.add_parser("list", help="list sources"))
    relocate = source_cmds.add_parser("relocate", help="point a source at its new folder")
    relocate.add_argument("name")
    relocate.add_argument("new_path")
    _json_flag(relocate)
    remove = source_cmds.add_parser("remove", help="forget a source and its notebooks")
    remove.add_argument("name")
    _json_flag(remove)
    manifest = source_cmds.add_parser(
        "write-manifest", help="write a manifest into a big share so syncs need not walk it"
    )
    manifest.add_argument("name")
    _json_flag(manifest)

    sync = commands.add_parser("sync", help="copy new and changed notebooks into the library")
    sync.add_argument("sources", nargs="*", metavar="SOURCE", help="only these sources")
    _json_flag(sync)
    _json_flag(commands.add_parser("problems", help="files that could not be read"))
    search = commands.add_parser("search", help="find notebooks")
    search.add_argument(
        "query", nargs="+", metavar="QUERY",
        help='words, "a phrase", prefix*, lang:/import:/source:/tag:/title:, -word, OR',
    )
    search.add_argument("--limit", type=int, default=20, metavar="N")
    search.add_argument("--words-only", action="store_true",
                        help="match the words only: leave out the notebooks found by meaning")
    _json_flag(search)
    _json_flag(commands.add_parser(
        "reindex", help="rebuild the search index and the similarity model from the catalog"))
    similar = commands.add_parser("similar", help="the notebooks most like one, with reasons")
    similar.add_argument("notebook", metavar="NOTEBOOK")
    similar.add_argument("--limit", type=int, default=10, metavar="N")
    _json_flag(similar)

    run = commands.add_parser("run", help="run a notebook in a local kernel")
    run.add_argument("notebook", metavar="NOTEBOOK")
    run.add_argument("--kernel", metavar="NAME", help="the kernel to use (default: its own)")
    run.add_argument("--force-kernel", action="store_true",
                     help="run in --kernel even when it runs another language than the "
                          "notebook's (refused otherwise)")
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                     help="a papermill parameter; the value takes the type of the default")
    run.add_argument("--timeout", type=float, metavar="S", help="seconds each cell may run")
    run.add_argument("--keep-going", action="store_true", help="run on past a failing cell")
    run.add_argument("-f", "--parameters-file", action="append", default=[], type=Path,
                     metavar="PARAMS.yaml", help="parameters from a YAML file, as papermill's -f")
    run.add_argument("-y", "--parameters-yaml", action="append", default=[], metavar="YAML",
                     help="parameters as YAML, as papermill's -y ('alpha: 0.7'); -p wins "
                          "over -y, -y over -f")
    run.add_argument("--prepare-only", action="store_true",
                     help="write the notebook with its parameters to -o PATH without running "
                          "it (no kernel, no run recorded)")
    run.add_argument("-o", "--output", type=Path, metavar="PATH",
                     help="also write the run record (the executed copy) to PATH")
    _json_flag(run)
    params = commands.add_parser(
        "parameters", help="a notebook's parameters: name, type, default, help")
    params.add_argument("notebook", metavar="NOTEBOOK", help="id, path, or SOURCE:PATH")
    _json_flag(params)
    runs = commands.add_parser("runs", help="a notebook's runs")
    runs.add_argument("notebook", metavar="NOTEBOOK")
    _json_flag(runs)
    health = commands.add_parser("health", help="will it run here?")
    health.add_argument("notebook", nargs="?", metavar="NOTEBOOK")
    health.add_argument("--run", action="store_true",
                        help="run every notebook that could run here and record the results")
    health.add_argument("--time-limit", type=float, default=300.0, metavar="S",
                        help="seconds each notebook may run with --run (default 300)")
    _json_flag(health)
    _json_flag(commands.add_parser("kernels", help="the kernels notebooks can run in"))

    publish = commands.add_parser("publish", help="publish a notebook file to a source")
    publish.add_argument("file", type=Path)
    publish.add_argument("--to", required=True, metavar="SOURCE")
    publish.add_argument("--as", dest="as_path", metavar="RELATIVE/PATH")
    publish.add_argument("--keep-outputs", action="store_true")
    publish.add_argument("--force", action="store_true",
                         help="overwrite even if someone else changed it since")
    publish.add_argument("--dry-run", action="store_true",
                         help="show every check (what is removed, the warnings, the marking, "
                              "someone else's change, the data files); write nothing")
    publish.add_argument("--marking", metavar="MARKING",
                         help="mark the published copy (one of the library's markings) when "
                              "the notebook carries no marking")
    publish.add_argument("--with-data", action="store_true",
                         help="also publish the data files the notebook reads (relative paths "
                              "beside it) to the same place beside the published copy")
    _json_flag(publish)
    render = commands.add_parser("render", help="write a notebook as a safe offline HTML file")
    render.add_argument("notebook", metavar="NOTEBOOK")
    render.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.html")
    render.add_argument("--report", action="store_true", help="hide code cells")
    render.add_argument("--version", type=int, metavar="V", help="an older version")
    _json_flag(render)
    convert = commands.add_parser(
        "export", help="write a notebook as a script, Markdown, one safe HTML page or .ipynb")
    convert.add_argument("notebook", metavar="NOTEBOOK", help="id, path, or SOURCE:PATH")
    convert.add_argument("--to", required=True, choices=EXPORT_FORMATS,
                         help="script and markdown go through nbconvert; html is the viewer's "
                              "sanitized offline page")
    convert.add_argument("-o", "--output", type=Path, metavar="PATH",
                         help="the file (or folder) to write; default: the notebook's name "
                              "with the format's extension, in the current folder")
    convert.add_argument("--force", action="store_true", help="replace files that exist")
    _json_flag(convert)
    pack = commands.add_parser("pack", help="library packs for USB sticks")
    pack_cmds = pack.add_subparsers(dest="pack_command", metavar="ACTION", required=True)
    export = pack_cmds.add_parser("export", help="write notebooks and a manifest to a pack")
    export.add_argument("query", nargs="*", metavar="QUERY", help="pack every match")
    export.add_argument("--ids", metavar="ID,ID", help="pack these notebooks")
    export.add_argument("-o", "--output", required=True, type=Path, metavar="DIR_OR_ZIP")
    _json_flag(export)
    maintenance = commands.add_parser("maintenance", help="upkeep of the library folder")
    maintenance_cmds = maintenance.add_subparsers(dest="maintenance_command", metavar="ACTION",
                                                  required=True)
    _json_flag(maintenance_cmds.add_parser(
        "compact", help="store the versions kept before compression compressed (Ctrl+C stops "
                        "it safely; run it again to finish)"))
    diff = commands.add_parser("diff", help="cell changes between two versions")
    diff.add_argument("notebook", metavar="NOTEBOOK")
    diff.add_argument("versions", nargs="*", type=int, metavar="V",
                      help="V1 [V2]; default: the previous and the current version")
    diff.add_argument("--outputs", action="store_true", help="also report changed outputs")
    diff.add_argument("--metadata", action="store_true",
                      help="also report changed cell and output metadata and cell ids")
    diff.add_argument("--execution-count", action="store_true",
                      help="also report changed execution counts")
    _json_flag(diff)
    setting = commands.add_parser("settings", help="show or change library settings")
    setting.add_argument("key", nargs="?")
    setting.add_argument("value", nargs="*", help="new value (a list: several words)")
    setting.add_argument("--source", metavar="NAME", help="a setting of this source")
    _json_flag(setting)
    for name, text in (("show", "what the library knows of a notebook"),
                       ("history", "a notebook's versions")):
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("notebook", metavar="NOTEBOOK", help="id, path, or SOURCE:PATH")
        _json_flag(cmd)
    return parser


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbshelf", add_help=False)
    parser.add_argument("--library", type=Path)
    parser.add_argument("file", nargs="?", type=Path)
    return parser


def _is_app_launch(argv: Sequence[str], commands: set[str]) -> bool:
    """True when no subcommand is named: ``nbshelf`` or ``nbshelf FILE.ipynb``."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--library":
            skip = True
        elif arg.startswith("-"):
            if not arg.startswith("--library="):
                return False  # --help, --version and the like belong to the main parser
        else:
            if arg in commands:
                return False
            if not (arg.lower().endswith(".ipynb") or Path(arg).is_file()):
                return False  # a mistyped command: let the main parser say so (exit 2)
            return True
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--kernel"]:  # a bundle starting itself as its own Python kernel
        from nbshelf.run.kernels import run_own_kernel

        return run_own_kernel(argv[1:])
    parser = build_parser()
    commands = set(_subcommand_names(parser))
    if _is_app_launch(argv, commands):
        args = _app_parser().parse_args(argv)
        return _launch_app(args.library, args.file)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return 2
    as_json = getattr(args, "json", False)
    try:
        report = _run(args)
    except CommandFailed as err:
        _emit(err.report, as_json, sys.stdout, _command_key(args))
        print(f"nbshelf: {err}", file=sys.stderr)
        return 1
    except NbshelfError as err:
        if as_json:
            _emit({"error": str(err)}, True, sys.stdout)
        print(f"nbshelf: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nbshelf: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        storage = storage_error(err)
        if storage is not None:  # the machine, not a bug: a disk full, a damaged catalog
            if as_json:
                _emit({"error": str(storage)}, True, sys.stdout)
            print(f"nbshelf: {storage}", file=sys.stderr)
            return 1
        # a bug: say so plainly, keep the traceback in the log file
        where = _log_crash()
        print(f"nbshelf: internal error ({type(err).__name__}: {err}); details in {where}",
              file=sys.stderr)
        return 1
    if report is not None:
        _emit(report, as_json, sys.stdout, _command_key(args))
    return 0


def _subcommand_names(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _command_key(args: argparse.Namespace) -> str:
    if args.command in ("source", "pack", "maintenance"):
        return f"{args.command} {getattr(args, args.command + '_command')}"
    return str(args.command)


def _reads_only(args: argparse.Namespace) -> bool:
    """True for a command that only reads: it never takes the writer lock, never waits for
    a writer, and answers from what the library has committed."""
    key = _command_key(args)
    if key == "settings":
        return not args.value  # showing a setting
    if key == "run":
        return bool(args.prepare_only)  # a prepared notebook is written outside the library
    return key in READ_ONLY and not getattr(args, "run", False)


def _run(args: argparse.Namespace) -> dict[str, Any] | None:
    handler = _HANDLERS[_command_key(args)]
    lib = open_library(args.library, readonly=_reads_only(args),
                       wait=max(0.0, args.wait), on_wait=_say_waiting)
    with lib:
        return handler(lib, args)


def _say_waiting(pid: int | None, seconds: float) -> None:
    """Tell a person at a terminal why the command has not started yet."""
    if sys.stderr.isatty():
        who = f"process {pid}" if pid else "another process"
        print(f"nbshelf: the library is in use by {who}; waiting up to {seconds:g} s...",
              file=sys.stderr)


# -- handlers: each returns the JSON report (also rendered for humans) ------------------------


def _source_add(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    info = lib.add_source(args.path, name=args.name)
    return {"source": info.to_json()}


def _source_list(lib: Library, _args: argparse.Namespace) -> dict[str, Any]:
    return {"sources": [s.to_json() for s in lib.list_sources()]}


def _source_relocate(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    return {"source": lib.relocate_source(args.name, args.new_path).to_json()}


def _source_remove(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    freed = lib.remove_source(args.name)
    return {"removed": args.name, "blobs_deleted": freed}


def _source_write_manifest(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    return lib.write_manifest(args.name)


@contextlib.contextmanager
def _stoppable(args: argparse.Namespace) -> Iterator[tuple[ProgressBar | None, threading.Event]]:
    """A progress bar on a terminal (none with --json), and an event Ctrl+C sets: long work
    stops at its next safe point and says what it kept, instead of dying mid-write."""
    cancel = threading.Event()
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.json else None

    def on_sigint(_sig: int, _frame: FrameType | None) -> None:
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield bar, cancel
    finally:
        signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()


def _sync(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    with _stoppable(args) as (bar, cancel):
        report = lib.sync(args.sources or None, progress=bar, cancel=cancel)
    data = report.to_json()
    if report.cancelled:
        raise CommandFailed("sync cancelled; run sync again to finish (nothing was lost)", data)
    return data


def _search(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    if args.limit < 1:
        raise NbshelfError("--limit must be 1 or more")
    report = lib.search(" ".join(args.query), limit=args.limit,
                        meaning=not args.words_only).to_json()
    behind = lib.index_behind()
    if behind:
        # a reader answers from the committed index; the writer's next sync catches it up
        report["behind"] = behind
        print(f"nbshelf: the index is {behind:,} notebook{'s' if behind != 1 else ''} behind "
              "the catalog; the next sync catches it up", file=sys.stderr)
    return report


def _similar(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    if args.limit < 1:
        raise NbshelfError("--limit must be 1 or more")
    try:
        found = lib.similar(args.notebook, limit=args.limit)
    except SimilarLearning as learning:
        # not a failure: the first sync's model is on its way
        return {"results": [], "learning": True, "note": str(learning)}
    return {"results": [s.to_json() for s in found]}


def _reindex(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.json else None
    count = lib.reindex(progress=bar.step if bar else None)
    if bar is not None:
        bar.close()
    return {"indexed": count}


def _run_notebook(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    from nbshelf.run.parameters import (
        parse_cli_parameters,
        parse_yaml_parameters,
        read_parameters_file,
    )

    # papermill's order: files, then YAML strings, then -p (typed after the defaults) win
    values: dict[str, Any] = {}
    for file in args.parameters_file:
        values.update(read_parameters_file(file))
    for text in args.parameters_yaml:
        values.update(parse_yaml_parameters(text, what="the -y parameters"))
    texts = parse_cli_parameters(args.parameter) or None
    if args.prepare_only:
        if args.output is None:
            raise NbshelfError("--prepare-only writes the notebook to -o PATH: name the file")
        return lib.prepare_run(args.notebook, args.output, kernel=args.kernel,
                               parameters=texts, values=values or None).to_json()

    cancel = threading.Event()
    on_event = _cell_printer(sys.stderr) if sys.stderr.isatty() and not args.json else None

    def on_sigint(_sig: int, _frame: FrameType | None) -> None:
        cancel.set()

    from nbshelf.run.kernels import KernelLanguageMismatch

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = lib.run(args.notebook, kernel=args.kernel, parameters=texts,
                         cell_timeout=args.timeout, stop_on_error=not args.keep_going,
                         on_event=on_event, cancel=cancel, values=values or None,
                         output=args.output, any_language=args.force_kernel)
    except KernelLanguageMismatch as err:
        raise NbshelfError(f"{err} Nothing was run. To run it in {err.kernel.name} anyway, "
                           "add --force-kernel.") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    report = result.to_json()
    if not result.ok:
        # people count cells from 1; the JSON's failed_cell stays 0-based (DESIGN.md)
        where = f" at cell {result.failed_cell + 1}" if result.failed_cell is not None else ""
        raise CommandFailed(f"the run ended with status {result.status}{where}: "
                            f"{result.error or 'no error text'}", report)
    return report


def _cell_printer(out: TextIO) -> Callable[[Any], None]:
    def show(event: Any) -> None:
        if event.kind == "started" and event.index is not None:
            out.write(f"running cell {event.index + 1}…\n")
            out.flush()

    return show


def _runs(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    return {"runs": [r.to_json() for r in lib.runs(args.notebook)]}


def _health(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    if args.run:
        if args.notebook:
            raise NbshelfError("health --run checks the whole library; use 'nbshelf run' "
                               "for one notebook")
        bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.json else None
        cancel = threading.Event()
        previous = signal.signal(signal.SIGINT, lambda _s, _f: cancel.set())
        try:
            found = lib.health_run(time_limit=args.time_limit,
                                   progress=bar.step if bar else None, cancel=cancel)
        finally:
            signal.signal(signal.SIGINT, previous)
            if bar is not None:
                bar.close()
        if cancel.is_set():  # said, not hidden: the runs done so far are recorded
            raise CommandFailed("health run cancelled; the runs done so far are recorded, "
                                "and health shows them",
                                {"notebooks": [h.to_json() for h in found], "cancelled": True})
    else:
        found = lib.health(args.notebook)
    return {"notebooks": [h.to_json() for h in found]}


def _kernels(lib: Library, _args: argparse.Namespace) -> dict[str, Any]:
    return {"kernels": [{"name": k.name, "display_name": k.display_name,
                         "language": k.language} for k in lib.kernels()]}


def _publish(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    from nbshelf.publish.share import PublishBusy, PublishConflict

    if args.dry_run:
        return _publish_dry_run(lib, args)
    data: list[str] = []
    skipped: list[dict[str, Any]] = []
    if args.with_data:
        check = lib.preflight_publish(args.file, args.to, as_path=args.as_path,
                                      keep_outputs=args.keep_outputs, marking=args.marking)
        data = [d.path for d in check.data_files
                if d.suggested or (d.publishable and args.force)]
        skipped = [d.to_json() for d in check.data_files if d.path not in data]
    try:
        result = lib.publish(args.file, args.to, as_path=args.as_path,
                             keep_outputs=args.keep_outputs, force=args.force,
                             marking=args.marking, data=data)
    except PublishConflict as err:
        if isinstance(err, PublishBusy):
            raise
        other = f"--as {err.suggested}" if err.suggested else "--as"
        raise PublishConflict(f"{err} ({other}, or --force)", err.suggested) from None
    if not args.json:
        for leak in result.leaks:
            print(f"nbshelf: warning: {leak.message}", file=sys.stderr)
        for item in skipped:
            print(f"nbshelf: warning: not published with it: {item['reason']}",
                  file=sys.stderr)
    return {**result.to_json(), "removes": result.stripped.describe(), "data_skipped": skipped}


def _publish_dry_run(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    prepared = lib.prepare_publish(args.file, keep_outputs=args.keep_outputs,
                                   marking=args.marking)
    check = lib.preflight_publish(args.file, args.to, as_path=args.as_path,
                                  keep_outputs=args.keep_outputs, marking=args.marking)
    return {"dry_run": True, "stripped": prepared.stripped.to_json(),
            "removes": prepared.stripped.describe(), "marking": prepared.marking,
            "warnings": [x.to_json() for x in prepared.leaks], "preflight": check.to_json()}


def _render(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    from nbshelf.render.audit import remote_references
    from nbshelf.store import atomic_write

    page = lib.render(args.notebook, version=args.version, report_view=args.report,
                      standalone=True)
    remote = remote_references(page)
    if remote:  # a defence that must hold: refuse to write a page that would reach out
        raise NbshelfError(f"the page would load {remote[0]}; not written (please report this)")
    out = args.output.expanduser()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, page.encode("utf-8"), mode=0o644)
    except OSError as err:
        raise NbshelfError(f"cannot write {out}: {err.strerror}") from None
    return {"output": str(out), "bytes": len(page.encode("utf-8"))}


def _export(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    return lib.export(args.notebook, args.to, args.output, force=args.force)


def _pack_export(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    ids = [int(i) for i in args.ids.split(",") if i.strip()] if args.ids else None
    if ids is None and not args.query:
        raise NbshelfError("name what to pack: a query, or --ids 1,2,3")
    return lib.export_pack(args.output, ids=ids, query=" ".join(args.query) or None)


def _compact(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    # Ctrl+C stops the store between two blobs: each blob is rewritten atomically, so
    # whatever is done stays done and every blob reads, in one format or the other
    with _stoppable(args) as (bar, cancel):
        report = lib.compact_store(progress=bar.step if bar else None, cancel=cancel)
    data = report.to_json()
    if report.cancelled:
        raise CommandFailed(f"compact stopped after {report.compacted:,} stored versions; "
                            "every version still reads. Run it again to finish", data)
    return data


def _diff(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    if len(args.versions) > 2:
        raise NbshelfError("give at most two versions: V1 [V2]")
    old = args.versions[0] if args.versions else None
    new = args.versions[1] if len(args.versions) == 2 else None
    changes = lib.diff(args.notebook, old, new, outputs=args.outputs, metadata=args.metadata,
                       execution_count=args.execution_count)
    compared = ["source", "attachments"] + [name for name, on in (
        ("outputs", args.outputs), ("execution_count", args.execution_count),
        ("metadata", args.metadata)) if on]
    return {"changes": [c.to_json() for c in changes], "compared": compared}


def _settings(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    from nbshelf.catalog.settings import SCHEMA

    if args.key is None:
        return {"settings": {k: lib.settings.get(k) for k, s in SCHEMA.items()
                             if not s.per_source}}
    if args.value:
        schema = SCHEMA.get(args.key)
        kind = schema.kind if schema else str
        value: Any = args.value
        if kind is bool:
            value = args.value[0].lower() in ("1", "true", "yes", "on")
        elif kind is int:
            value = int(args.value[0]) if args.value[0].isdigit() else args.value[0]
        elif kind is str:
            value = " ".join(args.value)
        lib.settings.set(args.key, value, args.source)
    return {"key": args.key, "source": args.source,
            "value": lib.settings.get(args.key, args.source)}


def _problems(lib: Library, _args: argparse.Namespace) -> dict[str, Any]:
    return {"problems": [p.to_json() for p in lib.problems()]}


def _show(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    info = lib.show(args.notebook)
    return {**info.to_json(), "parameters": [p.to_json() for p in lib.parameters(info.id)]}


def _parameters(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    info = lib.show(args.notebook)
    return {"id": info.id, "source": info.source, "path": info.path, "language": info.language,
            "kernel": info.kernel,
            "parameters": [p.to_json() for p in lib.parameters(info.id)]}


def _history(lib: Library, args: argparse.Namespace) -> dict[str, Any]:
    info = lib.show(args.notebook)
    return {
        "id": info.id,
        "source": info.source,
        "path": info.path,
        "versions": [v.to_json() for v in lib.history(info.id)],
    }


_HANDLERS: dict[str, Callable[[Library, argparse.Namespace], dict[str, Any] | None]] = {
    "source add": _source_add,
    "source list": _source_list,
    "source relocate": _source_relocate,
    "source remove": _source_remove,
    "source write-manifest": _source_write_manifest,
    "sync": _sync,
    "problems": _problems,
    "search": _search,
    "reindex": _reindex,
    "similar": _similar,
    "run": _run_notebook,
    "parameters": _parameters,
    "runs": _runs,
    "health": _health,
    "kernels": _kernels,
    "publish": _publish,
    "diff": _diff,
    "maintenance compact": _compact,
    "pack export": _pack_export,
    "render": _render,
    "export": _export,
    "settings": _settings,
    "show": _show,
    "history": _history,
}


# -- output ----------------------------------------------------------------------------------


def _emit(report: dict[str, Any], as_json: bool, out: TextIO, command: str = "") -> None:
    if as_json:
        out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(human(command, report))


class ProgressBar:
    """A one-line progress bar on a terminal, fed by sync progress."""

    def __init__(self, out: TextIO, width: int = 30) -> None:
        self.out = out
        self.width = width
        self.shown = False

    def __call__(self, p: SyncProgress) -> None:
        if p.phase == "scan":
            text = f"{p.source}: scanning… {p.total:,} entries"
        elif p.phase == "learn":  # a fit's steps are uneven: no bar
            text = "learning which notebooks are alike (search is ready)…"
        else:
            filled = int(self.width * p.scanned / p.total) if p.total else self.width
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"{p.source}: [{bar}] {p.scanned:,}/{p.total:,} checked, {p.copied:,} copied"
            if p.phase == "index":
                text = f"making notebooks searchable: [{bar}] {p.scanned:,}/{p.total:,}"
            elif p.searchable is not None:
                text += f"; {p.searchable:,} searchable"
        self.out.write("\r" + text[:120].ljust(80))
        self.out.flush()
        self.shown = True

    def step(self, done: int, total: int, message: str) -> None:
        """Show a (done, total, message) progress report, as long jobs give them."""
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.out.write(f"\r{message}: [{bar}] {done:,}/{total:,}".ljust(80))
        self.out.flush()
        self.shown = True

    def close(self) -> None:
        """End the progress line."""
        if self.shown:
            self.out.write("\n")
            self.out.flush()


def _log_crash() -> str:
    from nbshelf.crashlog import log_folder, write_crash_log

    where = write_crash_log(traceback.format_exc())
    return str(where or log_folder() / "crash.log")


def _launch_app(library: Path | None, file: Path | None) -> int:
    try:
        from nbshelf.ui.app import run_app
    except ImportError as err:
        print(f"nbshelf: the desktop app cannot start: {err}", file=sys.stderr)
        return 1
    return run_app(library, file)


if __name__ == "__main__":
    sys.exit(main())

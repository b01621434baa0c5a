"""What the command line prints for people (``--json`` prints the report itself).

One formatter per command, so a report is never guessed from its keys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbshelf.units import language_name, size

Report = dict[str, Any]


def human(command: str, report: Report) -> str:
    """The report of ``command`` as lines for a person at a terminal."""
    formatter = _FORMATTERS.get(command, _generic)
    return "\n".join(formatter(report)) + "\n"


def _generic(report: Report) -> list[str]:
    return [f"{key}: {value}" for key, value in report.items()]


def _source(report: Report) -> list[str]:
    s = report["source"]
    if s.get("relocated_from"):
        return [f"relocated source '{s['name']}' from {s['relocated_from']} to {s['path']}"]
    return [f"added source '{s['name']}' at {s['path']}; run 'nbshelf sync' to read it"]


def _sources(report: Report) -> list[str]:
    if not report["sources"]:
        return ["no sources yet: add one with 'nbshelf source add FOLDER'"]
    return [
        f"{s['name']:<20} {s['status']:<12} {s['notebooks']:>6} notebooks  "
        f"{s['last_sync'] or 'never synced'}  {s['path']}"
        for s in report["sources"]
    ]


def _removed(report: Report) -> list[str]:
    return [f"removed source '{report['removed']}'; {report['blobs_deleted']} stored versions "
            "no other source uses were deleted"]


def _manifest_written(report: Report) -> list[str]:
    return [f"wrote {report['path']}: {report['notebooks']:,} notebooks in "
            f"{report['folders']:,} folders ({report['bytes']:,} bytes; {report['hashed']:,} "
            "files read to hash them, the rest known from the library)"]


def _sync(report: Report) -> list[str]:
    lines = [f"added {report['added']}, updated {report['updated']}, removed "
             f"{report['removed']}, unchanged {report['unchanged']}"]
    lines += [f"source '{n}' is unavailable; its notebooks are kept"
              for n in report.get("unavailable", [])]
    if report["problems"]:
        lines.append(f"{len(report['problems'])} problems ('nbshelf problems' lists them)")
    return lines


def _problems(report: Report) -> list[str]:
    if not report["problems"]:
        return ["no problems"]
    return [f"{p['source']}:{p['path']}  [{p['kind']}] {p['message']}"
            for p in report["problems"]]


def _notebook(nb: Report) -> list[str]:
    lines = [
        nb["title"],
        f"  id {nb['id']}  {nb['source']}:{nb['path']}" + ("  (removed)" if nb["removed"] else ""),
        f"  {language_name(nb['language']) or 'unknown language'} (kernel {nb['kernel'] or '?'}), "
        f"nbformat {nb['nbformat']}, {nb['cells']['total']} cells, {size(nb['size'])}",
        f"  modified {nb['mtime']}, versions {nb['versions']}",
    ]
    if nb["imports"]:
        lines.append(f"  imports {', '.join(nb['imports'])}")
    lines += [f"  also at {p['source']}:{p['path']} (id {p['id']})" for p in nb["also_at"]]
    if nb["schema_warning"]:
        lines.append(f"  warning: {nb['schema_warning']}")
    if nb.get("parameters"):
        lines.append("  parameters:")
        lines += [f"  {line}" for line in _parameter_lines(nb["parameters"])]
    return lines


def _history(report: Report) -> list[str]:
    lines = [f"{report['source']}:{report['path']}"]
    for v in report["versions"]:
        mark = "  (current)" if v["current"] else ""
        lines.append(f"  v{v['number']}  {v['seen_at']}  {v['size']:>9,} bytes  "
                     f"{v['title']}{mark}")
    return lines


def _search(report: Report) -> list[str]:
    lines = ["(the query was read as plain words)"] if report["plain"] else []
    if report.get("note"):
        lines.append(report["note"])
    exact = [hit for hit in report["results"]
             if not hit.get("partial") and not hit.get("by_meaning")]
    partial = [hit for hit in report["results"] if hit.get("partial")]
    meant = [hit for hit in report["results"] if hit.get("by_meaning") and not hit.get("partial")]
    if report["total"] == 0:
        lines.append(f"no notebook matches {report['query']!r}")
        if report["suggestion"]:
            lines.append(f"did you mean: {report['suggestion']}")
    else:
        best = f", best {len(exact)}:" if len(exact) < report["total"] else ":"
        lines.append(f"{report['total']} notebooks{best}")
        for hit in exact:
            lines += _hit_lines(hit)
    if partial:
        some = report.get("partial_total", len(partial))
        best = f", best {len(partial)}" if len(partial) < some else ""
        lines.append(f"Also matching some of the words ({some} notebooks{best}):")
        for hit in partial:
            lines += _hit_lines(hit)
    if meant:
        lines.append("Also about the same thing:")
        for hit in meant:
            lines += _hit_lines(hit)
    return lines


def _hit_lines(hit: Report) -> list[str]:
    """A search hit: its id, title and place, its snippets (matches in ``**``), the words it
    lacks when it is a partial match, and its other places."""
    lines = [f"{hit['id']:>6}  {hit['title']}  [{hit['source']}:{hit['path']}]"]
    if hit.get("missing"):
        lines.append(f"        lacks: {', '.join(hit['missing'])}")
    if hit.get("reason"):
        # cells counted from 1, as a reader counts them
        cell = f" (cell {hit['best_cell'] + 1})" if hit.get("best_cell") is not None else ""
        lines.append(f"        {hit['reason']}{cell}")
    for snip in hit["snippets"]:
        text = snip["text"]
        for start, end in reversed(snip["highlights"]):
            text = f"{text[:start]}**{text[start:end]}**{text[end:]}"
        lines.append(f"        {snip['kind']} {snip['cell']}: {text}")
    lines += [f"        also at {o['source']}:{o['path']}" for o in hit["also_at"]]
    return lines


def _run(report: Report) -> list[str]:
    if report["status"] == "prepared":
        where = (f"injected as cell {report['injected_cell'] + 1}"
                 if report["injected_cell"] is not None else "none given")
        return [f"prepared {report['output']} (not run); parameters {where}"]
    lines = [f"{report['status']}: {report['cells_run']} cells run in {report['kernel']}"]
    if report.get("parameters"):
        lines.append("parameters: " + ", ".join(f"{k}={v!r}"
                                                for k, v in report["parameters"].items()))
    if report.get("traceback"):
        lines.append(report["traceback"].rstrip())
    lines.append(f"record: {report['record']}")
    if report.get("output"):
        lines.append(f"copy: {report['output']}")
    return lines


def _parameter_lines(parameters: list[Report]) -> list[str]:
    """As papermill's --help-notebook: ``name: type (default X)`` then the help."""
    lines = []
    for p in parameters:
        definition = f"  {p['name']}: {p['type']} (default {p['default']})"
        if len(definition) > 30 and p["help"]:
            lines += [definition, f"{34 * ' '}{p['help']}"]
        else:
            lines.append(f"{definition:<34}{p['help']}".rstrip())
    return lines


def _parameters(report: Report) -> list[str]:
    where = f"{report['source']}:{report['path']}"
    if not report["parameters"]:
        return [f"{where} has no parameters (no cell tagged 'parameters', or nothing "
                "assigned in it)"]
    return [f"parameters of {where}:", *_parameter_lines(report["parameters"])]


def _runs(report: Report) -> list[str]:
    if not report["runs"]:
        return ["never run"]
    return [
        f"{r['id']:>5}  {r['started']}  {r['status']:<9} {r['cells_run']:>4} cells  "
        + (f"failed at cell {r['failed_cell'] + 1}: {r['error']}" if r["failed_cell"] is not None
           else "")
        + ("" if r["current_version"] else "  (an older version)")
        for r in report["runs"]
    ]


def _health(report: Report) -> list[str]:
    lines = []
    for nb in report["notebooks"]:
        lines.append(f"{nb['detail']:<40} {nb['source']}:{nb['path']}")
        lines += [f"    {m}" for m in nb["messages"]]
    return lines or ["no notebooks"]


def _kernels(report: Report) -> list[str]:
    return [f"{k['name']:<24} {k['display_name']} ({language_name(k['language']) or '?'})"
            for k in report["kernels"]]


def _publish(report: Report) -> list[str]:
    if report.get("dry_run"):
        lines = [f"would publish with marking {report['marking'] or '(none)'}; "
                 f"{report['removes']}"]
    elif report["unchanged"]:
        lines = [f"{report['source']}:{report['path']} already holds this notebook"]
    else:
        verb = "replaced" if report["overwrote"] else "published"
        lines = [f"{verb} {report['source']}:{report['path']} ({report['removes']})"]
    if report.get("data"):
        lines.append(f"with its data: {', '.join(report['data'])} "
                     f"({report['data_copied']} written)")
    lines += [f"warning: {w['message']}" for w in report["warnings"]] if report.get(
        "dry_run") else []
    check = report.get("preflight")
    if check:
        lines += _preflight_lines(check)
    return lines


def _preflight_lines(check: Report) -> list[str]:
    """What a dry run found beyond the preview: refusals, a conflict, the data files."""
    lines = [f"would be refused: {why}" for why in check["blockers"]]
    if check["conflict"]:
        lines.append(f"conflict: {check['conflict']} Free name: {check['suggested_path']} "
                     "(--as), or replace theirs (--force)")
    for item in check["data_files"]:
        state = item["state"] if item["on_share"] != "different" else "found, differs on share"
        reason = f": {item['reason']}" if item["reason"] else ""
        lines.append(f"data file {item['path']} ({state}){reason}")
    return lines


def _diff(report: Report) -> list[str]:
    if not report["changes"]:
        plural = {"source": "sources", "execution_count": "execution counts"}
        compared = report.get("compared") or ["source", "attachments"]
        return ["no differences in cell " + _listed([plural.get(n, n) for n in compared])]
    lines = []
    for c in report["changes"]:
        if c["kind"] == "removed":
            lines.append(f"removed {c['cell_type']} cell (was {c['old_cell']})")
        elif c["kind"] == "added":
            lines.append(f"added {c['cell_type']} cell {c['new_cell']}")
        else:
            was = f" (was {c['old_cell']})" if c["old_cell"] != c["new_cell"] else ""
            what = _listed([name.replace("_", " ") for name in c["changed"]])
            lines.append(f"modified {c['cell_type']} cell {c['new_cell']}{was}: {what}")
        lines += [f"    {line}" for line in c["source_diff"].splitlines()]
    return lines


def _listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _similar(report: Report) -> list[str]:
    if report.get("note"):
        return [report["note"]]
    if not report["results"]:
        return ["no similar notebooks"]
    lines = []
    for hit in report["results"]:
        lines.append(f"{hit['score']:.2f}  {hit['relation']:<9} {hit['title']}  "
                     f"[{hit['source']}:{hit['path']}]")
        lines += [f"        {reason}" for reason in hit["reasons"]]
    return lines


def _exported(report: Report) -> list[str]:
    lines = [f"wrote {report['output']} ({report['format']}, {report['bytes']:,} bytes)"]
    if report["files"]:
        count = len(report["files"])
        lines.append(f"and {count} image file{'s' if count != 1 else ''} beside it in "
                     f"{Path(report['files'][0]).parent}")
    lines += [f"warning: {w}" for w in report["warnings"]]
    return lines


def _settings(report: Report) -> list[str]:
    if "settings" in report:
        return [f"{k} = {v!r}" for k, v in report["settings"].items()]
    where = f" (source {report['source']})" if report["source"] else ""
    return [f"{report['key']}{where} = {report['value']!r}"]


def _compacted(report: Report) -> list[str]:
    before, after = report["bytes_before"], report["bytes_after"]
    share = f" ({after / before:.0%} of before)" if before else ""
    lines = [f"compacted {report['compacted']:,} of {report['blobs']:,} stored versions "
             f"({report['already']:,} were compressed already): {size(before) or '0 bytes'} "
             f"before, {size(after) or '0 bytes'} after{share}"]
    lines += [f"left as it is, damaged (its bytes no longer match its name): {path}"
              for path in report["damaged"]]
    return lines


_FORMATTERS: dict[str, Callable[[Report], list[str]]] = {
    "source add": _source, "source relocate": _source, "source list": _sources,
    "source remove": _removed, "source write-manifest": _manifest_written,
    "sync": _sync, "problems": _problems, "show": _notebook,
    "history": _history, "search": _search, "reindex": lambda r: [f"indexed {r['indexed']} "
                                                                 "notebooks"],
    "run": _run, "parameters": _parameters, "runs": _runs, "health": _health,
    "kernels": _kernels, "publish": _publish,
    "diff": _diff, "settings": _settings, "similar": lambda r: _similar(r),
    "render": lambda r: [f"wrote {r['output']} ({r['bytes']:,} bytes; opens offline in any "
                         "browser)"],
    "export": _exported, "maintenance compact": _compacted,
}

"""Build the demo library that nbshelf shows on first run (resources/demo/).

The notebooks, their small data files and the README are all generated here, then the
notebooks are executed with local kernels so that they carry real outputs. The script owns
resources/demo/ completely: files it did not write in this run are removed.

Usage:
    python scripts/build_demo.py            # regenerate resources/demo/
    python scripts/build_demo.py --check    # validate, and re-run the notebooks in a temp copy

Kernels: "python3" (ipykernel, from this venv) and "ir" for the R notebook. On Debian:
    apt-get install r-base-core r-cran-irkernel && R -e 'IRkernel::installspec()'
(with this venv's bin/ on PATH, so installspec finds `jupyter`). Without the "ir" kernel the
R notebook already in resources/demo/ is kept as it is.

Running it twice gives identical files: randomness is seeded, cell ids are derived from the
notebook path, and execution timing metadata is not recorded.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import random
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode, v4
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "resources" / "demo"
TIMEOUT_S = 120

PYTHON = "python3"
R = "ir"

KERNELSPECS: dict[str, dict[str, str]] = {
    PYTHON: {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
    R: {"name": "ir", "display_name": "R", "language": "R"},
}

# What the kernels report about themselves. Executed notebooks get the kernel's own
# language_info; these are for notebooks stored without running (same keys as the kernels).
LANGUAGE_INFO: dict[str, dict[str, object]] = {
    PYTHON: {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": "3.11",
    },
    R: {
        "codemirror_mode": "r",
        "file_extension": ".r",
        "mimetype": "text/x-r-source",
        "name": "R",
        "pygments_lexer": "r",
        "version": "4.2",
    },
}

# "run": execute, every cell must pass. "fails": execute, the run must stop on an error and
# the notebook is saved as Jupyter saves it then. "none": stored without outputs.
Mode = Literal["run", "fails", "none"]


@dataclass(frozen=True)
class DemoNotebook:
    """One notebook of the demo library, before execution."""

    path: str  # relative to resources/demo/, forward slashes
    kernel: str
    cells: list[NotebookNode]
    mode: Mode = "run"
    # A copied notebook keeps the cell ids of its original, as a file copy would.
    id_base: str | None = None


# ---------------------------------------------------------------------------------------------
# Cell helpers


def md(text: str) -> NotebookNode:
    """A markdown cell; the text may be indented like the surrounding code."""
    return v4.new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str, tags: tuple[str, ...] = ()) -> NotebookNode:
    """A code cell with optional tags (papermill reads the `parameters` tag)."""
    cell = v4.new_code_cell(textwrap.dedent(text).strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


# ---------------------------------------------------------------------------------------------
# Data files


MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

PRODUCTS: dict[str, float] = {
    "Desk lamp": 24.00,
    "Office chair": 149.00,
    "Notebook A5": 3.50,
    "Stapler": 8.90,
    "Monitor 24in": 179.00,
    "Keyboard": 39.00,
    "Paper ream": 5.20,
    "Whiteboard": 65.00,
}


def seeded(seed: int) -> random.Random:
    """A private generator so the data never depends on anything else that draws numbers."""
    return random.Random(seed)  # noqa: S311 - demo data, not security


def sales_rows() -> list[list[object]]:
    """About six dozen sales lines for 2025; West opens in March, sales peak before Christmas."""
    rng = seeded(2025)
    rows: list[list[object]] = []
    for month in range(1, 13):
        season = 1.0 + 0.5 * math.exp(-((month - 11.5) ** 2) / 3.0)
        for region in ("North", "South", "East", "West"):
            if region == "West" and month < 3:
                continue
            for _ in range(rng.choice((1, 1, 2))):
                product = rng.choice(sorted(PRODUCTS))
                price = PRODUCTS[product]
                # Cheap items sell by the dozen, furniture by the unit.
                base = 60 if price < 10 else 18 if price < 50 else 6
                units = max(1, round(base * season * rng.uniform(0.5, 1.5)))
                day = rng.randint(1, 28)
                rows.append([
                    f"2025-{month:02d}-{day:02d}", region, product, units,
                    f"{price:.2f}", f"{units * price:.2f}",
                ])
    rows.sort(key=lambda r: (str(r[0]), str(r[1])))
    return rows


def visits_rows() -> list[list[object]]:
    """Daily visits, Jan-Jun 2025: slow growth, quiet weekends, noise, one campaign spike."""
    rng = seeded(7)
    weekday_effect = [12, 18, 15, 10, 0, -55, -70]  # Monday .. Sunday
    start = date(2025, 1, 1)
    rows: list[list[object]] = []
    for t in range(181):
        day = start + timedelta(days=t)
        visits = 220 + 0.45 * t + weekday_effect[day.weekday()] + rng.gauss(0, 14)
        if day in (date(2025, 3, 18), date(2025, 3, 19)):
            visits += 160  # the spring newsletter went out
        rows.append([day.isoformat(), round(visits)])
    return rows


def part_rows() -> list[list[object]]:
    """Lengths of machined parts from two machines; B runs a little short and wider."""
    rng = seeded(50)
    rows: list[list[object]] = []
    for i in range(160):
        machine = "A" if i % 2 == 0 else "B"
        mean, sd = (50.02, 0.08) if machine == "A" else (49.93, 0.12)
        rows.append([f"P{i + 1:04d}", machine, f"{rng.gauss(mean, sd):.3f}"])
    return rows


STORE_ROWS: list[list[object]] = [
    ["Harbour Street", "North", 59.913, 10.752],
    ["Old Mill", "North", 59.951, 10.688],
    ["Riverside", "South", 59.865, 10.790],
    ["Station Square", "South", 59.880, 10.735],
    ["Eastgate", "East", 59.925, 10.860],
    ["Market Hall", "East", 59.905, 10.905],
    ["Westfield", "West", 59.930, 10.610],
]

# Hand-written so that every usual kind of mess appears at least once.
CUSTOMERS_MESSY = """\
customer_id,name,email,city,signup_date,total_spent
1001, Anna Berg ,ANNA.BERG@EXAMPLE.ORG,Oslo,2025-01-14,"1,250.00"
1002,jonas lie,jonas.lie@example.org,  bergen,14/02/2025,300
1003,Mari Dahl,mari.dahl@example.org,Trondheim,March 3 2025,€ 89.90
1004,Per Holm,,Oslo,2025-03-21,n/a
1005,KARI NESS,kari.ness@example.org,OSLO,2025-04-02,"2,010.50"
1002,jonas lie,jonas.lie@example.org,  bergen,14/02/2025,300
1006,Ola  Strand,ola.strand@example.org,Stavanger,2025/04/19,45
1007,Ingrid Moe,ingrid.moe@example.org,,05/05/2025,
1008,Lars Vik,lars.vik@example,Bergen,2025-05-30,120.00
1009,Silje Aas,silje.aas@example.org,trondheim,June 8 2025,"€1,005"
1010,Erik Bakke,erik.bakke@example.org,Oslo,2025-06-11,0
1011, ,nobody@example.org,Oslo,2025-06-12,15
1012,Nora Lund,Nora.Lund@Example.org,Tromsø,12/06/2025,77.5
1013,Tor Hagen,tor.hagen@example.org,Bergen ,2025-07-01,-20
1014,Hanne Ruud,hanne.ruud@example.org,Oslo,2025-07-15,560
1005,KARI NESS,kari.ness@example.org,OSLO,2025-04-02,"2,010.50"
1015,Geir Lunde,geir.lunde@example.org,Drammen,2025-13-01,210
1016,Liv Sand,liv.sand@example.org,Oslo,2025-08-09,NaN
1017,Even Berg,even.berg@example.org,Fredrikstad,9 August 2025,1 200
1018,Siri Nilsen,siri.nilsen@example.org,bergen,2025-08-22,33.30
"""

MEETING_NOTES = """\
Quarterly planning meeting, operations team

Attendees agreed that the new warehouse layout has reduced picking time. Picking time fell
by about eight percent in the first month, and the team expects a further gain once the
labels on the upper shelves are replaced. The labels are faded and the scanners miss them.

Customer complaints were the second topic. Most complaints were about late delivery, not
about damaged goods. Late delivery was traced to two carriers who changed their pickup
times without notice. The team will ask both carriers for a fixed pickup time and will
report late delivery by carrier every week.

The budget for next quarter was discussed. The budget allows one new forklift or two part
time staff for the peak season, but not both. Several people said that staff matter more
than equipment in the peak season, because the forklift is idle for most of the year.
A decision on the budget will be taken at the next meeting, after the team has the peak
season forecast.

Training: new staff will shadow an experienced picker for three days instead of one.
Training records will move from paper to the shared spreadsheet so that the team can see
who still needs safety training. Safety training is required before anyone drives a
forklift.

Actions: replace the shelf labels, write to both carriers about pickup times, prepare the
peak season forecast, and move the training records. The next meeting is in four weeks.
"""


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with Unix newlines, so the bytes are the same on every platform."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    """Write a CSV with Unix newlines (the csv module defaults to CRLF)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_data_files(root: Path) -> list[Path]:
    """Write every data file the notebooks read; returns their paths."""
    files = {
        "sales/data/sales_2025.csv": (
            ["date", "region", "product", "units", "unit_price", "revenue"], sales_rows()),
        "timeseries/data/daily_visits.csv": (["date", "visits"], visits_rows()),
        "quality/data/part_lengths.csv": (["part_id", "machine", "length_mm"], part_rows()),
        "maps/data/stores.csv": (["store", "region", "lat", "lon"], STORE_ROWS),
    }
    written = []
    for rel, (header, rows) in files.items():
        write_csv(root / rel, header, rows)
        written.append(root / rel)
    for rel, text in {
        "cleaning/data/customers_messy.csv": CUSTOMERS_MESSY,
        "text/data/meeting_notes.txt": MEETING_NOTES,
    }.items():
        write_text(root / rel, text)
        written.append(root / rel)
    return written


README = """\
# nbshelf demo library

This folder is the demo library that nbshelf adds as a source on first run, so that a new
user sees a small, working collection at once: a dozen notebooks in Python and R about
sales, data cleaning, time series, measurements, text and unit conversion, with the small
data files they read (by relative path), real outputs (plots, tables, text), one notebook
with papermill-style parameters, one that stops with an error, one that needs a module
that is usually not installed, and a lightly edited copy under `archive/`. Do not edit the
files by hand: they are regenerated, and executed, by `scripts/build_demo.py`.
"""


# ---------------------------------------------------------------------------------------------
# Notebooks: sales


SALES_INTRO = """\
    # Monthly sales summary

    This notebook adds up the sales of 2025 for each month and each region, shows them as
    one table with totals, and draws a chart of the year. Use it to see at a glance which
    months and regions sold the most. It reads the file `data/sales_2025.csv`; replace that
    file with a newer export and run the notebook again to refresh the figures.
    """

SALES_LOAD = """\
    import csv
    from collections import defaultdict

    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    DATA_FILE = "data/sales_2025.csv"

    with open(DATA_FILE, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    # csv gives text: turn the numbers into numbers once, here.
    for row in rows:
        row["units"] = int(row["units"])
        row["revenue"] = float(row["revenue"])

    print(f"{len(rows)} sales lines loaded from {DATA_FILE}")
    print("First line:", rows[0])
    """

SALES_CHART = """\
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80)
    bottom = [0.0] * 12
    for region in regions:
        values = [pivot[(m, region)] / 1000 for m in range(1, 13)]
        ax.bar(MONTHS, values, bottom=bottom, label=region)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("revenue (thousand EUR)")
    ax.set_title("Revenue by month and region, 2025")
    ax.legend(ncol=4, fontsize=8)
    fig.tight_layout()
    plt.show()
    """


def monthly_summary_cells(intro: str, load: str, chart: str) -> list[NotebookNode]:
    """The cells of the monthly summary; the archived copy swaps a few of them."""
    return [
        md(intro),
        md("""\
            ## The data

            Each line of the file is one order line:

            | column | meaning | example |
            |---|---|---|
            | `date` | day of the order | 2025-03-14 |
            | `region` | sales region | North |
            | `product` | what was sold | Desk lamp |
            | `units` | how many | 12 |
            | `unit_price` | list price in EUR | 24.00 |
            | `revenue` | units × price, in EUR | 288.00 |
            """),
        code(load),
        md("""\
            ## Revenue by month and region

            A pivot table: one row per month, one column per region, and the sum of
            revenue in each box. The last row and the last column are totals.
            """),
        code("""\
            MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

            regions = sorted({row["region"] for row in rows})
            pivot = defaultdict(float)  # (month number, region) -> revenue
            for row in rows:
                month = int(row["date"][5:7])
                pivot[(month, row["region"])] += row["revenue"]
            """),
        code("""\
            def money(x):
                return f"{x:,.0f}"

            header = "".join(f"<th>{h}</th>" for h in ["Month", *regions, "Total"])
            lines = [f"<tr>{header}</tr>"]
            for m in range(1, 13):
                values = [pivot[(m, r)] for r in regions]
                cells = "".join(f"<td>{money(v)}</td>" for v in values)
                lines.append(f"<tr><td>{MONTHS[m - 1]}</td>{cells}"
                             f"<td><b>{money(sum(values))}</b></td></tr>")
            col_totals = [sum(pivot[(m, r)] for m in range(1, 13)) for r in regions]
            cells = "".join(f"<td><b>{money(v)}</b></td>" for v in col_totals)
            lines.append(f"<tr><td><b>Total</b></td>{cells}"
                         f"<td><b>{money(sum(col_totals))}</b></td></tr>")
            display(HTML("<table>" + "\\n".join(lines) + "</table>"))
            """),
        md("## Highlights"),
        code("""\
            total = sum(row["revenue"] for row in rows)
            by_month = {m: sum(pivot[(m, r)] for r in regions) for m in range(1, 13)}
            best = max(by_month, key=by_month.get)
            worst = min(by_month, key=by_month.get)

            print(f"Revenue in 2025: {total:,.2f} EUR")
            print(f"Best month:  {MONTHS[best - 1]} ({by_month[best]:,.0f} EUR)")
            print(f"Worst month: {MONTHS[worst - 1]} ({by_month[worst]:,.0f} EUR)")
            for region, value in zip(regions, col_totals):
                print(f"  {region:<6} {value:>10,.0f} EUR  {value / total:6.1%}")
            """),
        md("## Chart"),
        code(chart),
        md("""\
            ## Notes

            * Revenue is at list price, before discounts and returns.
            * The West region opened in March, so it has no sales in January and February.
            """),
    ]


def monthly_summary() -> DemoNotebook:
    """Sales pivot table, highlights and a stacked bar chart."""
    cells = monthly_summary_cells(SALES_INTRO, SALES_LOAD, SALES_CHART)
    return DemoNotebook("sales/monthly_summary.ipynb", PYTHON, cells)


def monthly_summary_old() -> DemoNotebook:
    """The near copy: last year's version of the summary, left in the archive."""
    intro = SALES_INTRO.replace(
        "Use it to see", "This is the older version, kept for reference. Use it to see"
    ).replace("`data/sales_2025.csv`", "`../sales/data/sales_2025.csv`")
    load = SALES_LOAD.replace('"data/sales_2025.csv"', '"../sales/data/sales_2025.csv"')
    # Before the stacked bars, the summary drew one line for the whole company.
    chart = """\
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80)
        totals = [sum(pivot[(m, r)] for r in regions) / 1000 for m in range(1, 13)]
        ax.plot(MONTHS, totals, marker="o")
        ax.set_ylabel("revenue (thousand EUR)")
        ax.set_title("Revenue by month, 2025")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        plt.show()
        """
    cells = monthly_summary_cells(intro, load, chart)
    return DemoNotebook("archive/monthly_summary_old.ipynb", PYTHON, cells,
                        id_base="sales/monthly_summary.ipynb")


def regional_report() -> DemoNotebook:
    """The parameterised report: one region and year, top products, month by month."""
    cells = [
        md("""\
            # Regional sales report

            A one-page report on the sales of one region in one year: how much it sold,
            its best products and how the months compared. The region and the year are set
            in the first code cell. To report on another region, change them there, or let
            nbshelf ask for them when you run the notebook (for example `region = "East"`).
            """),
        code("""\
            # Parameters: nbshelf (and papermill) replace these values when asked to.
            region = "North"
            year = 2025
            top_n = 5
            """, tags=("parameters",)),
        md("## Sales of the region"),
        code("""\
            import csv
            from collections import Counter, defaultdict

            from IPython.display import HTML, display

            with open("data/sales_2025.csv", newline="", encoding="utf-8") as f:
                all_rows = list(csv.DictReader(f))

            known = sorted({row["region"] for row in all_rows})
            lines = [row for row in all_rows
                     if row["region"] == region and row["date"].startswith(str(year))]
            if not lines:
                raise ValueError(f"No sales for region {region!r} in {year}. "
                                 f"Regions in the file: {', '.join(known)}")

            company_total = sum(float(row["revenue"]) for row in all_rows
                                if row["date"].startswith(str(year)))
            print(f"{len(lines)} order lines for {region} in {year}")
            """),
        md("## Headline figures"),
        code("""\
            revenue = sum(float(row["revenue"]) for row in lines)
            units = sum(int(row["units"]) for row in lines)
            print(f"Revenue:            {revenue:>10,.2f} EUR")
            print(f"Units sold:         {units:>10,}")
            print(f"Average order line: {revenue / len(lines):>10,.2f} EUR")
            print(f"Share of company:   {revenue / company_total:>10.1%}")
            """),
        md("## Top products"),
        code("""\
            product_revenue = Counter()
            product_units = Counter()
            for row in lines:
                product_revenue[row["product"]] += float(row["revenue"])
                product_units[row["product"]] += int(row["units"])

            html = ["<table>",
                    "<tr><th>Rank</th><th>Product</th><th>Units</th>"
                    "<th>Revenue (EUR)</th><th>Share</th></tr>"]
            for rank, (product, value) in enumerate(product_revenue.most_common(top_n), 1):
                html.append(f"<tr><td>{rank}</td><td>{product}</td>"
                            f"<td>{product_units[product]}</td><td>{value:,.2f}</td>"
                            f"<td>{value / revenue:.1%}</td></tr>")
            html.append("</table>")
            display(HTML("\\n".join(html)))
            """),
        md("""\
            ## Month by month

            One `#` stands for 100 EUR, so the bars can be compared by eye.
            """),
        code("""\
            MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            by_month = defaultdict(float)
            for row in lines:
                by_month[int(row["date"][5:7])] += float(row["revenue"])

            for m in range(1, 13):
                value = by_month[m]
                print(f"{MONTHS[m - 1]} {value:>9,.0f}  {'#' * round(value / 100)}")
            """),
        md("## Summary"),
        code("""\
            best = max(by_month, key=by_month.get)
            leader = product_revenue.most_common(1)[0][0]
            print(f"In {year}, {region} sold {revenue:,.0f} EUR "
                  f"({revenue / company_total:.0%} of the company). "
                  f"The best month was {MONTHS[best - 1]}; "
                  f"the product that brought in most was {leader}.")
            """),
    ]
    return DemoNotebook("sales/regional_report.ipynb", PYTHON, cells)


def year_over_year() -> DemoNotebook:
    """The failing notebook: growth per region divides by a region that had no 2024 sales."""
    cells = [
        md("""\
            # Sales growth, 2025 against 2024

            This notebook compares each region's sales in 2025 with the year before and
            shows the growth in percent. The 2025 figures come from the sales file; the
            2024 figures were typed in from last year's annual report.
            """),
        code("""\
            import csv
            from collections import defaultdict

            with open("../sales/data/sales_2025.csv", newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))

            this_year = defaultdict(float)
            for row in rows:
                this_year[row["region"]] += float(row["revenue"])
            for region, value in sorted(this_year.items()):
                print(f"{region:<6} {value:>10,.2f} EUR")
            """),
        code("""\
            # From the 2024 annual report, page 12 (revenue in EUR).
            last_year = {"North": 11850.0, "South": 10400.0, "East": 9900.0, "West": 0.0}
            print(f"2024 total: {sum(last_year.values()):,.2f} EUR")
            """),
        code("""\
            growth = {}
            for region in sorted(this_year):
                growth[region] = (this_year[region] - last_year[region]) / last_year[region]
            growth
            """),
        code("""\
            for region, g in growth.items():
                print(f"{region:<6} {g:+.1%}")
            """),
        md("""\
            ## Conclusion

            Regions with growth above 10 % get the extra marketing budget next year.
            """),
    ]
    return DemoNotebook("archive/year_over_year.ipynb", PYTHON, cells, mode="fails")


# ---------------------------------------------------------------------------------------------
# Notebooks: cleaning, time series, quality, text, tools, maps


def clean_customer_list() -> DemoNotebook:
    """Cleaning a messy CSV export: spaces, case, dates, amounts, duplicates."""
    cells = [
        md("""\
            # Cleaning a messy customer list

            Exports from the shop system come with stray spaces, names in capitals, dates
            written four different ways, amounts with currency signs and thousands
            separators, and customers listed twice. This notebook tidies such a file
            step by step and reports what it changed, so you can check the result before
            using it. The original file is never modified.
            """),
        md("## A first look at the raw file"),
        code("""\
            import csv
            import io
            import re
            from collections import Counter
            from datetime import datetime

            from IPython.display import HTML, display

            RAW_FILE = "data/customers_messy.csv"
            with open(RAW_FILE, encoding="utf-8") as f:
                raw_text = f.read()
            print("\\n".join(raw_text.splitlines()[:6]))

            raw_rows = list(csv.DictReader(io.StringIO(raw_text)))
            print(f"\\n{len(raw_rows)} rows, columns: {list(raw_rows[0])}")
            """),
        code("""\
            # How many cells are empty (or only spaces) in each column?
            empty = Counter()
            for row in raw_rows:
                for column, value in row.items():
                    if not value.strip():
                        empty[column] += 1
            for column in raw_rows[0]:
                print(f"{column:<12} {empty[column]} empty")
            """),
        md("""\
            ## Cleaning rules

            1. Trim spaces and squeeze double spaces; names and cities in *Title Case*.
            2. E-mail addresses in lower case; an address without a dot after the `@` is
               invalid and left empty.
            3. Dates are read in any of the formats seen in the file and written as
               `YYYY-MM-DD`; an impossible date (month 13) is left empty.
            4. Amounts lose their `€` sign, spaces and thousands separators; `n/a`, `NaN`
               and negative amounts become empty.
            5. A customer id seen before is a duplicate and is dropped.
            """),
        code("""\
            DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%B %d %Y", "%d %B %Y"]

            def clean_text(value):
                return re.sub(r"\\s+", " ", value).strip().title()

            def clean_email(value):
                value = value.strip().lower()
                return value if re.fullmatch(r"[^@\\s]+@[^@\\s]+\\.[a-z]+", value) else ""

            def clean_date(value):
                for fmt in DATE_FORMATS:
                    try:
                        return datetime.strptime(value.strip(), fmt).date().isoformat()
                    except ValueError:
                        pass
                return ""

            def clean_amount(value):
                value = value.replace("€", "").replace(",", "").replace(" ", "")
                try:
                    amount = float(value)
                except ValueError:
                    return ""
                return "" if amount != amount or amount < 0 else f"{amount:.2f}"
            """),
        code("""\
            CLEANERS = {"name": clean_text, "email": clean_email, "city": clean_text,
                        "signup_date": clean_date, "total_spent": clean_amount}

            changes = Counter()
            seen = set()
            clean_rows = []
            for row in raw_rows:
                if row["customer_id"] in seen:
                    changes["duplicate row dropped"] += 1
                    continue
                seen.add(row["customer_id"])
                new = {"customer_id": row["customer_id"]}
                for column, cleaner in CLEANERS.items():
                    new[column] = cleaner(row[column])
                    if new[column] != row[column]:
                        kind = "emptied" if row[column].strip() and not new[column] else "fixed"
                        changes[f"{column} {kind}"] += 1
                clean_rows.append(new)

            print(f"{len(raw_rows)} rows in, {len(clean_rows)} rows out")
            for what, count in sorted(changes.items()):
                print(f"  {what:<24} {count}")
            """),
        md("## Before and after"),
        code("""\
            def table(rows, columns):
                head = "".join(f"<th>{c}</th>" for c in columns)
                body = "".join(
                    "<tr>" + "".join(f"<td>{r[c]}</td>" for c in columns) + "</tr>"
                    for r in rows)
                return HTML(f"<table><tr>{head}</tr>{body}</table>")

            columns = list(raw_rows[0])
            display(HTML("<b>Raw</b>"), table(raw_rows[:6], columns))
            display(HTML("<b>Clean</b>"), table(clean_rows[:6], columns))
            """),
        md("""\
            ## Rows that still need a person

            Cleaning cannot invent what is missing. These rows have an empty field after
            cleaning; someone who knows the customers should fill them in.
            """),
        code("""\
            for row in clean_rows:
                missing = [c for c in CLEANERS if not row[c]]
                if missing:
                    print(f"{row['customer_id']}: {', '.join(missing)}")
            """),
        md("""\
            ## The clean file

            The cleaned rows as CSV text, ready to copy or to save next to the raw export.
            """),
        code("""\
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\\n")
            writer.writeheader()
            writer.writerows(clean_rows)
            print(out.getvalue())
            """),
    ]
    return DemoNotebook("cleaning/clean_customer_list.ipynb", PYTHON, cells)


VISITS_LOAD = """\
    import csv
    from datetime import date

    import matplotlib.pyplot as plt
    import numpy as np

    with open("data/daily_visits.csv", newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))

    dates = [date.fromisoformat(r["date"]) for r in records]
    visits = np.array([float(r["visits"]) for r in records])
    print(f"{len(visits)} days, {dates[0]} to {dates[-1]}")
    print(f"mean {visits.mean():.1f}, min {visits.min():.0f}, max {visits.max():.0f}")
    """


def moving_averages() -> DemoNotebook:
    """Smoothing a daily series: simple and exponential moving averages, and spikes."""
    cells = [
        md("""\
            # Smoothing daily visits with moving averages

            Daily counts jump up and down: weekends are quiet, some days are busy by
            chance. This notebook smooths the daily visits to the customer portal so the
            underlying direction is easier to see, and points out the days that stand out
            from their neighbours.
            """),
        md("""\
            ## Two ways to smooth

            The **simple moving average** over $k$ days is the plain mean of the last $k$
            values: $\\mathrm{SMA}_t = \\frac{1}{k}\\sum_{i=0}^{k-1} x_{t-i}$.
            A 7-day window removes the weekly rhythm exactly.

            The **exponential moving average** gives recent days more weight:
            $s_t = \\alpha\\, x_t + (1-\\alpha)\\, s_{t-1}$, with $0 < \\alpha \\le 1$.
            A small $\\alpha$ means a smoother line that reacts later.
            """),
        code(VISITS_LOAD),
        code("""\
            def moving_average(x, k):
                \"\"\"Mean of each window of k values; the result is k - 1 values shorter.\"\"\"
                return np.convolve(x, np.ones(k) / k, mode="valid")

            def exponential_smoothing(x, alpha):
                s = np.empty_like(x)
                s[0] = x[0]
                for t in range(1, len(x)):
                    s[t] = alpha * x[t] + (1 - alpha) * s[t - 1]
                return s

            sma7 = moving_average(visits, 7)
            sma28 = moving_average(visits, 28)
            ema = exponential_smoothing(visits, alpha=0.15)

            print(f"last 7-day average:  {sma7[-1]:.1f}")
            print(f"last 28-day average: {sma28[-1]:.1f}")
            print(f"last EMA (a=0.15):   {ema[-1]:.1f}")
            """),
        md("## The chart"),
        code("""\
            fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80)
            ax.plot(dates, visits, color="0.75", lw=0.8, label="daily")
            ax.plot(dates[6:], sma7, lw=1.5, label="7-day average")
            ax.plot(dates[27:], sma28, lw=1.5, label="28-day average")
            ax.plot(dates, ema, lw=1, ls="--", label="EMA, a=0.15")
            ax.set_ylabel("visits per day")
            ax.legend(fontsize=8)
            fig.autofmt_xdate()
            fig.tight_layout()
            plt.show()
            """),
        md("""\
            ## Days that stand out

            A day stands out when it is more than three typical deviations away from the
            7-day average centred on it.
            """),
        code("""\
            centred = moving_average(visits, 7)          # window t-3 .. t+3
            residual = visits[3:-3] - centred
            limit = 3 * residual.std()
            for i in np.flatnonzero(np.abs(residual) > limit):
                day = dates[i + 3]
                print(f"{day} ({day:%a}): {visits[i + 3]:.0f} visits, "
                      f"{residual[i]:+.0f} against the local average")
            """),
    ]
    return DemoNotebook("timeseries/moving_averages.ipynb", PYTHON, cells)


def weekly_pattern() -> DemoNotebook:
    """Trend by linear regression with numpy, the weekday pattern, and a simple forecast."""
    cells = [
        md("""\
            # Trend and weekly pattern in daily visits

            Are visits to the customer portal growing, and which weekdays are busy? This
            notebook fits a straight line through the daily visits to measure the growth,
            then averages what is left over by weekday, and uses both to estimate next
            month.
            """),
        code(VISITS_LOAD),
        md("""\
            ## The trend: a straight line

            We look for the line $y = a + b\\,t$ (with $t$ the day number) that is closest
            to the data in the least-squares sense. The slope $b$ is the growth in visits
            per day; $R^2$ says how much of the ups and downs the line explains.
            """),
        code("""\
            t = np.arange(len(visits), dtype=float)
            X = np.column_stack([np.ones_like(t), t])
            (a, b), *_ = np.linalg.lstsq(X, visits, rcond=None)
            trend = a + b * t
            residual = visits - trend
            r2 = 1 - (residual ** 2).sum() / ((visits - visits.mean()) ** 2).sum()

            print(f"a = {a:.1f} visits on 1 January")
            print(f"b = {b:.3f} visits per day, about {7 * b:.1f} more each week")
            print(f"R² = {r2:.2f}")
            """),
        code("""\
            fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80)
            ax.scatter(dates, visits, s=6, color="tab:blue", label="daily visits")
            ax.plot(dates, trend, color="tab:red", label=f"trend, +{7 * b:.1f} per week")
            ax.set_ylabel("visits per day")
            ax.legend(fontsize=8)
            fig.autofmt_xdate()
            fig.tight_layout()
            plt.show()
            """),
        md("## The weekly pattern"),
        code("""\
            from IPython.display import HTML, display

            WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                        "Saturday", "Sunday"]
            weekday = np.array([d.weekday() for d in dates])
            effect = np.array([residual[weekday == w].mean() for w in range(7)])

            rows = "".join(
                f"<tr><td>{WEEKDAYS[w]}</td><td>{(visits[weekday == w]).mean():.0f}</td>"
                f"<td>{effect[w]:+.0f}</td></tr>"
                for w in range(7))
            display(HTML("<table><tr><th>Weekday</th><th>Average visits</th>"
                         f"<th>Against trend</th></tr>{rows}</table>"))
            """),
        md("""\
            ## Next month

            Trend plus weekday effect gives an estimate for July. It does not know about
            holidays or campaigns, so treat it as a starting point.
            """),
        code("""\
            from datetime import timedelta

            future = [dates[-1] + timedelta(days=i) for i in range(1, 32)]
            t_future = np.arange(len(visits), len(visits) + 31)
            estimate = a + b * t_future + effect[[d.weekday() for d in future]]
            print(f"July estimate: {estimate.sum():,.0f} visits "
                  f"(June had {visits[-30:].sum():,.0f})")
            print(f"busiest expected day: {future[int(estimate.argmax())]:%A %d %B}")
            """),
    ]
    return DemoNotebook("timeseries/weekly_pattern.ipynb", PYTHON, cells)


def part_measurements() -> DemoNotebook:
    """A histogram of measurements against a tolerance, per machine."""
    cells = [
        md("""\
            # Part lengths against the tolerance

            The workshop measures the length of every part that comes off the two lathes.
            The drawing asks for 50.00 mm, give or take 0.30 mm. This notebook shows how the
            measured lengths are spread, how many parts fall outside the tolerance, and
            whether either machine needs adjusting.
            """),
        code("""\
            import csv

            import matplotlib.pyplot as plt
            import numpy as np

            NOMINAL, TOLERANCE = 50.00, 0.30
            LOWER, UPPER = NOMINAL - TOLERANCE, NOMINAL + TOLERANCE

            with open("data/part_lengths.csv", newline="", encoding="utf-8") as f:
                records = list(csv.DictReader(f))
            lengths = {m: np.array([float(r["length_mm"]) for r in records
                                    if r["machine"] == m])
                       for m in ("A", "B")}
            for machine, x in lengths.items():
                print(f"machine {machine}: {len(x)} parts")
            """),
        md("""\
            ## Summary per machine

            Besides mean and spread we compute the process capability
            $C_{pk} = \\min\\left(\\frac{U - \\mu}{3\\sigma}, \\frac{\\mu - L}{3\\sigma}\\right)$,
            where $U$ and $L$ are the upper and lower limits. Above 1.33 is usually
            called capable; below 1 means parts out of tolerance are to be expected.
            """),
        code("""\
            print("machine   mean     std     min     max   outside   Cpk")
            for machine, x in lengths.items():
                mu, sigma = x.mean(), x.std(ddof=1)
                cpk = min(UPPER - mu, mu - LOWER) / (3 * sigma)
                outside = int(((x < LOWER) | (x > UPPER)).sum())
                print(f"   {machine}    {mu:7.3f} {sigma:7.3f} {x.min():7.3f} {x.max():7.3f}"
                      f"   {outside:5d}   {cpk:5.2f}")
            """),
        md("## Histogram"),
        code("""\
            fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80)
            bins = np.arange(49.55, 50.45, 0.04)
            for machine, x in lengths.items():
                ax.hist(x, bins=bins, alpha=0.6, label=f"machine {machine}")
            for limit in (LOWER, UPPER):
                ax.axvline(limit, color="red", ls="--", lw=1)
            ax.axvline(NOMINAL, color="black", lw=0.8)
            ax.set_xlabel("length (mm)")
            ax.set_ylabel("parts")
            ax.legend(fontsize=8)
            fig.tight_layout()
            plt.show()
            """),
        md("""\
            ## Reading the result

            Machine A is centred on the nominal length. Machine B runs about a tenth of a
            millimetre short and spreads more, which is where the parts outside the lower
            limit come from: re-zeroing B is the first thing to try.
            """),
    ]
    return DemoNotebook("quality/part_measurements.ipynb", PYTHON, cells)


def word_frequencies() -> DemoNotebook:
    """Counting words and word pairs in a plain-text document."""
    cells = [
        md("""\
            # Word frequencies in meeting notes

            Which words come up most often in a document? This notebook counts the words
            of a plain-text file (here, notes from a planning meeting), leaves out small
            words such as *the* and *and*, and lists the most frequent words and word
            pairs. It is a quick way to see what a long text is mostly about.
            """),
        code("""\
            import re
            from collections import Counter

            from IPython.display import HTML, display

            with open("data/meeting_notes.txt", encoding="utf-8") as f:
                text = f.read()

            words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())
            print(f"{len(text.splitlines())} lines, {len(words)} words, "
                  f"{len(set(words))} different words")
            """),
        md("""\
            ## Leaving out the small words

            *Stop words* are frequent words that carry little meaning on their own.
            The list below is short on purpose; add words to it if they get in the way.
            """),
        code("""\
            STOP_WORDS = set('''
                a about after an and are at be because before both but by for from has
                have in is it its more most not of on once one or so than that the their
                they this to two was were will with who which same can all any there
                until than then our we next'''.split())

            content = [w for w in words if w not in STOP_WORDS and len(w) > 2]
            counts = Counter(content)
            print(f"{len(content)} words left after removing stop words")
            """),
        md("## The most frequent words"),
        code("""\
            # Ties are broken alphabetically so the list is the same on every run.
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
            longest = top[0][1]
            rows = "".join(
                f"<tr><td>{word}</td><td>{n}</td><td>{'▇' * round(12 * n / longest)}</td></tr>"
                for word, n in top)
            display(HTML(f"<table><tr><th>Word</th><th>Count</th><th></th></tr>{rows}</table>"))
            """),
        md("## Word pairs"),
        code("""\
            pairs = Counter(zip(content, content[1:]))
            for (w1, w2), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:8]:
                print(f"{n}  {w1} {w2}")
            """),
        md("""\
            ## Notes on the method

            Counting words ignores order and meaning: *not late* counts as *late*. Word
            pairs recover a little of the context, which is why "late delivery" and
            "peak season" show up as topics of their own.
            """),
    ]
    return DemoNotebook("text/word_frequencies.ipynb", PYTHON, cells)


def unit_conversion() -> DemoNotebook:
    """A conversion helper with fixed currency rates, units and temperatures."""
    cells = [
        md("""\
            # Unit and currency conversion helper

            Small functions to convert amounts between currencies and measurements between
            units, with a few ready-made examples. The workstation has no network, so the
            exchange rates are fixed in the table below: update them by hand from the
            finance department's monthly rate sheet.
            """),
        md("""\
            ## Exchange rates

            | currency | code | units per 1 EUR |
            |---|---|---:|
            | Euro | EUR | 1.0000 |
            | US dollar | USD | 1.0850 |
            | Pound sterling | GBP | 0.8550 |
            | Swiss franc | CHF | 0.9400 |
            | Norwegian krone | NOK | 11.7000 |
            | Japanese yen | JPY | 162.5000 |

            Rates as of the 1 June 2025 rate sheet.
            """),
        code("""\
            RATES_PER_EUR = {"EUR": 1.0, "USD": 1.085, "GBP": 0.855, "CHF": 0.94,
                             "NOK": 11.70, "JPY": 162.5}

            def convert_currency(amount, source, target):
                \"\"\"Convert through the euro, the currency the rate sheet is based on.\"\"\"
                return amount / RATES_PER_EUR[source] * RATES_PER_EUR[target]

            print(f"100 USD = {convert_currency(100, 'USD', 'EUR'):.2f} EUR")
            print(f"250 GBP = {convert_currency(250, 'GBP', 'NOK'):,.2f} NOK")
            print(f"5000 JPY = {convert_currency(5000, 'JPY', 'CHF'):.2f} CHF")
            """),
        md("""\
            ## Lengths, weights and volumes

            Each unit is stored as a factor to one base unit of its kind (metre, kilogram,
            litre), so any two units of the same kind convert in one step.
            """),
        code("""\
            UNITS = {
                "length": {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0,
                           "in": 0.0254, "ft": 0.3048, "yd": 0.9144, "mi": 1609.344},
                "mass": {"g": 0.001, "kg": 1.0, "t": 1000.0, "oz": 0.028349523125,
                         "lb": 0.45359237},
                "volume": {"ml": 0.001, "l": 1.0, "m3": 1000.0, "gal": 3.785411784,
                           "pt": 0.473176473},
            }

            def convert_unit(value, source, target):
                for kind, factors in UNITS.items():
                    if source in factors and target in factors:
                        return value * factors[source] / factors[target]
                raise ValueError(f"cannot convert {source} to {target}")

            for value, source, target in [(12, "in", "cm"), (26.2, "mi", "km"),
                                          (150, "lb", "kg"), (5, "gal", "l"),
                                          (2.5, "t", "lb")]:
                result = convert_unit(value, source, target)
                print(f"{value:>6} {source:<3} = {result:10.2f} {target}")
            """),
        md("""\
            ## Temperatures

            Temperatures do not scale from zero, so they need their own formula:
            $T_F = T_C \\times \\frac{9}{5} + 32$ and back $T_C = (T_F - 32) \\times \\frac{5}{9}$.
            """),
        code("""\
            def c_to_f(celsius):
                return celsius * 9 / 5 + 32

            def f_to_c(fahrenheit):
                return (fahrenheit - 32) * 5 / 9

            print(" °C     °F")
            for celsius in (-20, 0, 4, 20, 37, 100):
                print(f"{celsius:4d} {c_to_f(celsius):6.1f}")
            print(f"\\n451 °F = {f_to_c(451):.1f} °C")
            """),
        md("## A price list in several currencies"),
        code("""\
            prices_eur = {"Desk lamp": 24.00, "Office chair": 149.00, "Monitor 24in": 179.00}
            codes = ["EUR", "USD", "GBP", "NOK"]
            print(f"{'item':<14}" + "".join(f"{c:>10}" for c in codes))
            for item, price in prices_eur.items():
                print(f"{item:<14}" + "".join(
                    f"{convert_currency(price, 'EUR', c):>10,.2f}" for c in codes))
            """),
    ]
    return DemoNotebook("tools/unit_conversion.ipynb", PYTHON, cells)


def store_map() -> DemoNotebook:
    """Needs geopandas, which analysts' machines usually lack: the health check reports it."""
    cells = [
        md("""\
            # Store locations and catchment areas

            A map of the shops with a circle of 5 km around each one, to see which parts
            of the city are far from any shop. This notebook needs the `geopandas` package,
            which is not installed on every workstation; ask IT for it if the first code
            cell reports that it is missing.
            """),
        code("""\
            import geopandas as gpd
            import matplotlib.pyplot as plt
            import pandas as pd

            table = pd.read_csv("data/stores.csv")
            stores = gpd.GeoDataFrame(
                table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326")
            stores = stores.to_crs("EPSG:25832")  # a projection in metres, for distances
            stores[["store", "region"]]
            """),
        md("## Catchment areas"),
        code("""\
            catchment = stores.copy()
            catchment["geometry"] = stores.buffer(5000)
            covered = catchment.union_all()
            print(f"area within 5 km of a shop: {covered.area / 1e6:.1f} km²")
            """),
        code("""\
            fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80)
            catchment.plot(ax=ax, alpha=0.2, column="region")
            stores.plot(ax=ax, color="black", markersize=10)
            ax.set_axis_off()
            plt.show()
            """),
        md("## Distance to the nearest other shop"),
        code("""\
            for i, row in stores.iterrows():
                others = stores.drop(index=i)
                print(f"{row['store']:<15} {others.distance(row.geometry).min() / 1000:.1f} km")
            """),
    ]
    return DemoNotebook("maps/store_locations.ipynb", PYTHON, cells, mode="none")


def r_sales_by_region() -> DemoNotebook:
    """The R notebook: the same sales file, aggregated and modelled in base R."""
    cells = [
        md("""\
            # Sales by region (R)

            The same sales file as the Python summary, read with R: revenue per region as
            a table and a bar chart, and a first look at whether dearer products sell in
            smaller numbers. Only base R is used, so the notebook runs on any machine with
            R and its Jupyter kernel.
            """),
        md("## The data"),
        code("""\
            sales <- read.csv("../sales/data/sales_2025.csv")
            sales$month <- as.integer(substr(sales$date, 6, 7))
            cat(nrow(sales), "order lines,", length(unique(sales$product)), "products\\n")
            head(sales, 5)
            """),
        md("## Revenue per region"),
        code("""\
            by_region <- aggregate(cbind(units, revenue) ~ region, data = sales, FUN = sum)
            by_region$share <- round(100 * by_region$revenue / sum(by_region$revenue), 1)
            by_region[order(-by_region$revenue), ]
            """),
        code("""\
            options(repr.plot.width = 6, repr.plot.height = 3.5, repr.plot.res = 80)
            barplot(by_region$revenue / 1000, names.arg = by_region$region,
                    col = "steelblue", ylab = "revenue (thousand EUR)",
                    ylim = c(0, 1.1 * max(by_region$revenue) / 1000),
                    main = "Revenue per region, 2025")
            """),
        md("""\
            ## Price and units

            A linear model of units sold on the unit price. A negative slope means that
            dearer products are bought in smaller quantities.
            """),
        code("""\
            fit <- lm(units ~ unit_price, data = sales)
            print(round(coef(summary(fit)), 3))
            cat(sprintf("R-squared: %.2f\\n", summary(fit)$r.squared))
            """),
    ]
    return DemoNotebook("r/sales_by_region.ipynb", R, cells)


NOTEBOOKS: list[Callable[[], DemoNotebook]] = [
    monthly_summary,
    regional_report,
    monthly_summary_old,
    year_over_year,
    clean_customer_list,
    moving_averages,
    weekly_pattern,
    part_measurements,
    word_frequencies,
    unit_conversion,
    store_map,
    r_sales_by_region,
]


# ---------------------------------------------------------------------------------------------
# Building and running


def cell_id(base: str, index: int) -> str:
    """A stable cell id, so regenerating does not change every cell of every notebook."""
    return hashlib.sha256(f"{base}#{index}".encode()).hexdigest()[:8]


def make_notebook(spec: DemoNotebook) -> NotebookNode:
    """Assemble the notebook node with kernelspec, language_info and stable cell ids."""
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPECS[spec.kernel])
    nb.metadata["language_info"] = dict(LANGUAGE_INFO[spec.kernel])
    base = spec.id_base or spec.path
    for index, cell in enumerate(spec.cells):
        cell.id = cell_id(base, index)
    nb.cells = spec.cells
    return nb


def available_kernels() -> set[str]:
    """Names of the kernelspecs that Jupyter can find on this machine."""
    return set(KernelSpecManager().find_kernel_specs())


def kernel_config(kernel: str, sockets: Path) -> Config:
    """Kernel manager settings: ipykernel talks over local sockets in `sockets`.

    ipykernel warns on every start that unencrypted TCP is insecure; IPC avoids both the
    warning and open ports. IRkernel only speaks TCP, so other kernels keep the default.
    """
    if kernel == PYTHON:
        return Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / "k")}})
    return Config()


def execute(nb: NotebookNode, folder: Path, kernel: str, expect_error: bool) -> None:
    """Run the notebook in place with its folder as working directory.

    Raises:
        RuntimeError: when a notebook fails that should not, or runs through that should fail.
    """
    with tempfile.TemporaryDirectory(prefix="nbshelf-demo-kernel-") as sockets:
        # record_timing=False keeps the files stable between builds (no per-cell timestamps).
        # The client makes (and so shuts down) its own kernel manager: one passed in as
        # `km` is left running, and IRkernel does not exit when its parent does.
        client = NotebookClient(nb, kernel_name=kernel, timeout=TIMEOUT_S, record_timing=False,
                                config=kernel_config(kernel, Path(sockets)),
                                resources={"metadata": {"path": str(folder)}})
        try:
            client.execute()
        except CellExecutionError as exc:
            if not expect_error:
                raise RuntimeError(f"{folder}: unexpected error\n{exc}") from exc
            return
    if expect_error:
        raise RuntimeError(f"{folder}: expected the run to fail, but it succeeded")


def strip_volatile(nb: NotebookNode) -> None:
    """Drop metadata that differs from run to run, should a kernel or client add it."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def warm_up_matplotlib() -> None:
    """Build matplotlib's font cache here, not in a kernel.

    On a fresh machine the first import prints "building the font cache" to stderr, and in a
    kernel that message would be saved in the notebook as an output.
    """
    import matplotlib.font_manager  # noqa: F401 - imported for its side effect


def build_one(spec: DemoNotebook, root: Path, kernels: set[str]) -> Path:
    """Make, execute and write one notebook; returns its path."""
    target = root / spec.path
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = make_notebook(spec)
    if spec.mode != "none":
        if spec.kernel not in kernels:
            # Keep the last good executed file rather than replacing it with a bare one.
            if target.exists():
                print(f"  kept {spec.path}: kernel {spec.kernel!r} is not installed here")
                return target
            print(f"  {spec.path}: kernel {spec.kernel!r} is not installed; stored unexecuted")
        else:
            execute(nb, target.parent, spec.kernel, expect_error=spec.mode == "fails")
    strip_volatile(nb)
    nbformat.validate(nb)
    nbformat.write(nb, target)
    print(f"  wrote {spec.path}")
    return target


def remove_stale(root: Path, keep: set[Path]) -> None:
    """Delete files this build did not write, then empty folders: the script owns the tree."""
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
            print(f"  removed stale {path.relative_to(root)}")
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def build(root: Path) -> None:
    """Regenerate the whole demo library under root."""
    root.mkdir(parents=True, exist_ok=True)
    warm_up_matplotlib()
    kernels = available_kernels()
    written = set(write_data_files(root))
    write_text(root / "README.md", README)
    written.add(root / "README.md")
    for factory in NOTEBOOKS:
        written.add(build_one(factory(), root, kernels))
    remove_stale(root, written)


# ---------------------------------------------------------------------------------------------
# Checking


def check(root: Path) -> bool:
    """Validate every notebook and re-run it in a temporary copy, where its kernel exists.

    Returns:
        True when every notebook is valid, every runnable one ran without error, and the
        one meant to fail still fails.
    """
    kernels = available_kernels()
    specs = {spec.path: spec for spec in (factory() for factory in NOTEBOOKS)}
    ok = True
    with tempfile.TemporaryDirectory(prefix="nbshelf-demo-") as tmp:
        copy = Path(tmp) / "demo"
        shutil.copytree(root, copy)
        for path in sorted(copy.rglob("*.ipynb")):
            rel = path.relative_to(copy).as_posix()
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
            spec = specs.get(rel)
            kernel = nb.metadata["kernelspec"]["name"]
            if spec is None or spec.mode == "none" or kernel not in kernels:
                print(f"valid, {'not run:':<18} {rel}")
                continue
            try:
                execute(nb, path.parent, kernel, expect_error=spec.mode == "fails")
            except RuntimeError as exc:
                print(f"FAILED: {rel}\n{exc}")
                ok = False
                continue
            verdict = "fails as intended" if spec.mode == "fails" else "runs"
            print(f"valid, {verdict + ':':<18} {rel}")
    return ok


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="validate and re-run the existing demo notebooks, change nothing")
    parser.add_argument("--out", type=Path, default=DEMO,
                        help="target folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if check(args.out) else 1
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

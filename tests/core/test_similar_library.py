"""Similar notebooks through the library and the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import run_cli, write_notebook

SALES = ["import pandas as pd\nsales = pd.read_csv('sales.csv')",
         "by_region = sales.groupby('region')['revenue'].sum()",
         "table = sales.pivot_table(index='region', columns='month', values='revenue')",
         "table.plot(kind='bar')"]


def test_similar_lists_copies_first_with_reasons(library_dir: Path, share: Path) -> None:
    write_notebook(share / "sales.ipynb", title="Sales by region", code=SALES)
    (share / "archive").mkdir()
    shutil.copy(share / "sales.ipynb", share / "archive" / "sales.ipynb")
    write_notebook(share / "sales_v2.ipynb", title="Sales by region (v2)",
                   code=[*SALES, "table.to_csv('out.csv')"])
    write_notebook(share / "weather.ipynb", title="Rain in July",
                   code=["import numpy as np\nrain = np.loadtxt('rain.txt')", "rain.mean()"])
    assert run_cli(library_dir, "source", "add", str(share), "--name", "team").code == 0
    assert run_cli(library_dir, "sync").code == 0
    assert (library_dir / "similar").is_dir()  # sync built the model
    found = run_cli(library_dir, "similar", "team:sales.ipynb", "--json")
    assert found.code == 0, found.stderr
    results = found.json["results"]
    assert [(r["path"], r["relation"]) for r in results[:2]] == [
        ("archive/sales.ipynb", "same"), ("sales_v2.ipynb", "near-copy")]
    assert all(r["path"] != "sales.ipynb" for r in results)
    assert any("pivot_table" in reason for reason in results[1]["reasons"])
    assert all(0 <= r["score"] <= 1 for r in results)
    shutil.rmtree(library_dir / "similar")  # a lost model is rebuilt, never fatal
    again = run_cli(library_dir, "similar", "team:sales.ipynb", "--json")
    assert again.code == 0 and again.json["results"][1]["path"] == "sales_v2.ipynb"

"""A small library with a few topics, for search by meaning (issue 18): enough notebooks
that the related-terms model has co-occurrences to learn from.

Most notebooks about joining tables say both "combine" and "merge"; one, "Customer orders
by account", only says merge and join: a query for "combine" finds it by meaning alone.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.helpers import write_notebook

#: Each topic: title words, prose sentences, code lines. A notebook takes a few of each.
TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "tables": (
        ["Combining tables", "Merging datasets", "Joining frames", "Combine and merge"],
        ["We combine the two tables with a merge on the key column.",
         "Combine customers and orders: merge them on the shared key.",
         "A left join keeps every row; merge combines the matching keys.",
         "To combine data sets, merge or join them on a key.",
         "The merge combines rows whose key columns are equal."],
        ["merged = pd.merge(left, right, on='key', how='left')",
         "joined = left.join(right, on='key')",
         "combined = left.merge(right, on=['key'])",
         "both = pd.merge(customers, orders, on='customer_id')"],
    ),
    "groups": (
        ["Grouping and aggregating", "Summary statistics per category", "Group by"],
        ["Summary statistics per category: group the rows and aggregate.",
         "We group by category and compute the mean and count per group.",
         "Aggregate each group: the sum per category.",
         "Per category summaries come from a groupby."],
        ["summary = df.groupby('category').agg(['mean', 'count'])",
         "totals = df.groupby('category')['amount'].sum()",
         "stats = df.groupby(['region', 'category']).aggregate('mean')"],
    ),
    "series": (
        ["Forecasting a time series", "Resampling time series", "Rolling windows"],
        ["A time series indexed by dates; we resample it by month and forecast ahead.",
         "The forecast uses the seasonal trend of the series.",
         "Rolling means smooth the series before the forecast.",
         "Resample to monthly frequency, then forecast with ARIMA."],
        ["monthly = ts.resample('M').mean()",
         "smooth = ts.rolling(window=7).mean()",
         "model = ARIMA(ts, order=(1, 1, 1)).fit()\nforecast = model.forecast(12)"],
    ),
    "plots": (
        ["Plotting with matplotlib", "Scatter plots and histograms", "Figures and axes"],
        ["We plot a histogram and a scatter plot of the columns.",
         "Each figure has axes; the plot shows the distribution.",
         "A scatter plot of price against size, with a histogram beside it."],
        ["fig, ax = plt.subplots()\nax.scatter(df.size, df.price)",
         "plt.hist(df.price, bins=30)\nplt.show()",
         "ax.plot(x, y, label='line')\nax.legend()"],
    ),
    "models": (
        ["Training a classifier", "Predicting labels", "Model evaluation"],
        ["We split the data into training and test sets, fit a classifier and predict.",
         "The classifier's accuracy on the test set.",
         "Train the model, then predict the labels of new rows."],
        ["X_train, X_test, y_train, y_test = train_test_split(X, y)",
         "clf = RandomForestClassifier().fit(X_train, y_train)",
         "accuracy = accuracy_score(y_test, clf.predict(X_test))"],
    ),
    "text": (
        ["Cleaning text", "Tokenizing words", "Regular expressions"],
        ["We lowercase the text, tokenize it into words and drop punctuation.",
         "A regular expression finds the words in each sentence.",
         "Count the words after tokenizing the text."],
        ["words = re.findall(r'\\w+', text.lower())",
         "tokens = nltk.word_tokenize(sentence)",
         "counts = Counter(words).most_common(10)"],
    ),
}
#: The notebook found by meaning only: it says merge and join, never "combine".
MERGE_ONLY = "Ledger entries by account"


def write_topic_notebooks(share: Path, per_topic: int = 8, seed: int = 18, *,
                          extras: bool = True) -> int:
    """Write ``per_topic`` notebooks per topic (and, with ``extras``, the merge-only one
    and two about csv files) into ``share``; returns how many."""
    rng = random.Random(seed)
    count = 0
    for topic, (titles, prose, code) in TOPICS.items():
        for n in range(per_topic):
            title = f"{titles[n % len(titles)]} {n + 1}"
            write_notebook(share / topic / f"{topic}-{n + 1}.ipynb", title=title,
                           markdown=rng.sample(prose, min(3, len(prose))),
                           code=["import pandas as pd", *rng.sample(code, min(2, len(code)))])
            count += 1
    if not extras:
        return count
    write_merge_only(share)
    write_notebook(share / "files" / "read-csv.ipynb", title="Reading CSV files",
                   markdown=["Load the sales file with pandas."],
                   code=["import pandas as pd\nsales = pd.read_csv('sales.csv')"])
    write_notebook(share / "files" / "csv-notes.ipynb", title="Notes on csv",
                   markdown=["A csv file is plain text; read it line by line."],
                   code=["lines = open('sales.csv').read().splitlines()"])
    return count + 3


def write_merge_only(share: Path) -> Path:
    """The notebook that says merge and join but never "combine"; its merge is in cell 4
    (title, prose, three code cells)."""
    return write_notebook(
        share / "accounts" / "orders.ipynb", title=MERGE_ONLY,
        markdown=["Ledger entries and accounts, one line per entry."],
        code=["import pandas as pd",
              "ledger = pd.read_parquet('ledger.parquet')",
              "merged = pd.merge(ledger, accounts, on='key', how='left')\n"
              "joined = ledger.join(accounts, on='key')"],
    )

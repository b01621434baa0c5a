"""Full-text search: the Whoosh index and its code-aware analysis, the query language, the
matchers, and the searching service with snippets and facets.

Nothing is imported here: Whoosh loads with the first search, off the app's start path.
"""

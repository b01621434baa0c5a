"""The desktop app: a Qt window over ``nbshelf.library.Library``.

This package is the only place PySide6 appears. Widgets never touch the library directly:
every call goes through :class:`nbshelf.ui.tasks.TaskRunner`, and views refresh when the runner
broadcasts :class:`nbshelf.ui.tasks.Changes`.
"""

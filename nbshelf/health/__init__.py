"""Will a notebook run here: its kernel, modules and data files, and how its last run went."""

"""nbshelf's tests; the helpers they share are ``tests.helpers``."""

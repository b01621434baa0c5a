"""Tests of the Qt app, offscreen; their helpers are ``tests.ui.uihelpers``."""

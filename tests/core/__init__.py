"""Tests of the headless core (no QApplication)."""

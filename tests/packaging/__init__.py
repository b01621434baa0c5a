"""Tests of the installed app's desktop integration."""

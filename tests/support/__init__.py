"""Harness and stand-ins the template's test modules share: import them from here."""

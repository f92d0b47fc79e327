"""What the test modules share, helpers and stand-ins; conftest.py holds the fixtures."""

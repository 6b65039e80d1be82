"""Tests. `tests.support` and `tests.emulators` are importable helpers shared by test modules."""

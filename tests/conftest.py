"""Fixtures shared by the test modules: the fake GitHub REST server (tests/fakegithub.py)."""

from fakegithub import fake_github, fake_github_server  # noqa: F401

"""The package version, in one place (read by the CLI, the reports and pyproject)."""

__version__ = "0.1.0"

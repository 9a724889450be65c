"""Authoring: the rule author's tools — checking, linting, coverage, scenarios and diffs."""

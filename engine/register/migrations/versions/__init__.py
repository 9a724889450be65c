"""The register's revisions, oldest first: each creates or changes tables, none loses data."""

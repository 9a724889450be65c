"""Rendering: graphs, diagrams, reports and spreadsheets for people to read."""

"""Instructor-side part of the course kit: hidden checks, goldens, the nbgrader pipeline and the CLI."""

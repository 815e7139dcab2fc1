"""Kept for courses whose nbgrader_config.py was written before the autograder became packages
(`from autograder.nbconfig import configure`); new courses import autograder.grading.nbconfig."""

from autograder.grading.nbconfig import configure

__all__ = ["configure"]

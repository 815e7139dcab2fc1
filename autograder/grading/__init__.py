"""Grading a lab: one submission in the sandbox, the class loop, outcomes, the gradebook, nbgrader's config."""

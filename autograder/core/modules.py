"""Module paths the kit names as strings (`python -m`, nbgrader's config, probes, tamper protection).

Each is defined here once; tests/unit/core/test_modules.py imports every one, so a renamed module fails
a test instead of silently dropping out of the grader.
"""

from __future__ import annotations

PROBE = "autograder.sandbox.probe"                  # `python -m`: can a kernel run as the unprivileged user?
ZYGOTE = "autograder.sandbox.zygote"                # `python -m`: forks grading kernels, re-runs and nbgrader runs
ISOLATION = "autograder.sandbox.isolation"          # imported by the isolation probe
VERIFY = "autograder.sandbox.verify"                # `python -m`: the clean re-run of the hidden tests
FEEDBACK_PREPROCESSOR = "autograder.feedback.preprocessor.StudentFeedback"  # nbgrader_config.py
LATE_PENALTY = "autograder.grading.latepenalty.PerDayPenalty"               # nbgrader_config.py
EXECUTE = "autograder.grading.execute.WatchedExecute"                       # nbgrader_config.py
CHECKS = "autograder.checks"                        # the hidden tests import autograder.checks.<lab>
CHECK_HELPERS = ("autograder.checks.golden", "autograder.checks.common",  # the kit's code every check runs
                 "autograder.checks.accuracy")


def lab_checks(lab_id: str) -> str:
    """The module holding `lab_id`'s hidden checks."""
    return f"{CHECKS}.{lab_id}"


def every_name(lab_ids) -> list[str]:
    """Every module (or module.attribute) named above, for the labs `lab_ids`."""
    return [PROBE, ZYGOTE, ISOLATION, VERIFY, FEEDBACK_PREPROCESSOR, LATE_PENALTY, EXECUTE, CHECKS, *CHECK_HELPERS,
            *(lab_checks(lab_id) for lab_id in lab_ids)]

"""One error type the `course` command reports as a line instead of a traceback; every kit error derives from it."""

from __future__ import annotations


class CourseError(Exception):
    """A problem the user can fix; its message says what was wrong and what to do."""


class BuildError(CourseError, RuntimeError):
    """A source notebook is missing or disagrees with course.toml, or a command got a bad option."""


class ReportError(CourseError, RuntimeError):
    """Nothing to report yet: the course was not built or the lab not graded."""


class PublishError(CourseError, RuntimeError):
    """The student tree cannot be written, or it would hold something private."""


class ReproduceError(CourseError, ValueError):
    """A reference run cannot start or resume: unknown setting, missing data or a changed configuration."""


class SplitError(CourseError, ValueError):
    """The fundus images and their label CSV cannot be split as asked."""


class FeedbackError(CourseError, RuntimeError):
    """nbgrader could not write the feedback pages."""

"""nbgrader's configuration, derived from course.toml (nbgrader_config.py calls `configure`)."""

from __future__ import annotations

from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from autograder.latepenalty import PerDayPenalty
from autograder.preprocessors import StudentFeedback
from labkit import config

SOURCE_DIR, RELEASE_DIR = "solutions", "assignments"
# A Python warning as printed to stderr: "<file>:<line>: <Category>Warning: <message>".
WARNING_PATTERN = r"(?m)^.*:\d+: \w*Warning: "
CONFIG_FILE = "nbgrader_config.py"
CONFIG_TEXT = '''\
# nbgrader reads this file; every setting comes from course.toml (autograder/nbconfig.py).
# nbgrader only logs errors in config files and goes on with its defaults: stop instead.
from autograder.nbconfig import configure

try:
    configure(get_config())
except Exception as error:
    raise SystemExit(f"nbgrader_config.py: {error}")
'''


def configure(c, root: Path | None = None) -> None:
    """Set nbgrader's traitlets config `c` from the course.toml found at `root` (or upwards of cwd)."""
    course = config.load(root)
    c.CourseDirectory.root = str(course.root)
    c.CourseDirectory.course_id = course.course.id
    # Parallel graders share a SQLite gradebook: each waits up to a minute for another's write to finish.
    sqlite = course.gradebook_url.startswith("sqlite:")
    c.CourseDirectory.db_url = course.gradebook_url + ("?timeout=60" if sqlite else "")
    c.CourseDirectory.source_directory = SOURCE_DIR
    c.CourseDirectory.release_directory = RELEASE_DIR
    c.Execute.timeout = course.grading.cell_timeout
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = WARNING_PATTERN
    c.GenerateFeedback.preprocessors = [GetGrades, StudentFeedback, CSSHTMLHeaderPreprocessor]
    c.AssignLatePenalties.plugin_class = PerDayPenalty
    c.PerDayPenalty.points_per_day = {lab.id: lab.late_penalty * lab.points for lab in course.labs.values()}


def ensure_config_file(root: Path) -> Path:
    """Write nbgrader_config.py into the course folder `root` unless it is already there."""
    path = Path(root) / CONFIG_FILE
    if not path.exists():
        path.write_text(CONFIG_TEXT, encoding="utf-8")
    return path

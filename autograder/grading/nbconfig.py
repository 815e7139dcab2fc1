"""nbgrader's configuration, derived from course.toml (nbgrader_config.py calls `configure`)."""

from __future__ import annotations

from pathlib import Path

from autograder.core import layout, modules
from autograder.grading import gradebook
from labkit import config

# A Python warning as printed to stderr: "<file>:<line>: <Category>Warning: <message>".
WARNING_PATTERN = r"(?m)^.*:\d+: \w*Warning: "
CONFIG_TEXT = '''\
# nbgrader reads this file; every setting comes from course.toml (autograder/grading/nbconfig.py).
# nbgrader only logs errors in config files and goes on with its defaults: stop instead.
from autograder.grading.nbconfig import configure

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
    c.CourseDirectory.db_url = gradebook.db_url(course)
    c.CourseDirectory.source_directory = layout.SOURCE_DIR
    c.CourseDirectory.release_directory = layout.RELEASE_DIR
    c.Execute.timeout = course.grading.cell_timeout
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = WARNING_PATTERN
    # By dotted name: nbgrader imports them when it runs, and grading never imports the feedback package.
    c.GenerateFeedback.preprocessors = ["nbgrader.preprocessors.GetGrades", modules.FEEDBACK_PREPROCESSOR,
                                        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
    c.AssignLatePenalties.plugin_class = modules.LATE_PENALTY
    c.Autograde.autograde_preprocessors = autograde_preprocessors()
    c.PerDayPenalty.points_per_day = {lab.id: lab.late_penalty * lab.points for lab in course.labs.values()}


def autograde_preprocessors() -> list:
    """nbgrader's own autograde preprocessors, its Execute replaced by the kit's (named: nbgrader imports it)."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [modules.EXECUTE if step is Execute else step for step in default]


def ensure_config_file(root: Path) -> Path:
    """Write nbgrader_config.py into the course folder `root` unless it is already there."""
    path = Path(root) / layout.CONFIG_FILE
    if not path.exists():
        path.write_text(CONFIG_TEXT, encoding="utf-8")
    return path

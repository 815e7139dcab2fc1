"""nbgrader's late-submission plugin for the kit: a fraction of the lab's points per started day late."""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Dict

DAY = 24 * 3600


def days_late(seconds_late: float) -> int:
    """Started days: 1 s late is one day, 24 h 1 s is two."""
    return math.ceil(seconds_late / DAY) if seconds_late > 0 else 0


def points_lost(score: float, seconds_late: float, points_per_day: float) -> float:
    """The late penalty of a score: `points_per_day` for every started day late, never more than the score."""
    return min(score, days_late(seconds_late) * points_per_day)


class PerDayPenalty(LateSubmissionPlugin):
    """Take `points_per_day[lab]` points for every started day late, never more than the score."""

    points_per_day = Dict(help="lab -> points lost per started day late (course.toml's late_penalty x points)"
                          ).tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        lab_id = self.parent.assignment_id
        per_day = self.points_per_day.get(lab_id, 0)
        if not per_day:
            return None
        penalty = points_lost(score, total_seconds_late, per_day)
        self.log.warning("%s: %s is %d day(s) late; late penalty %g of %g points",
                         lab_id, student_id, days_late(total_seconds_late), penalty, score)
        return penalty

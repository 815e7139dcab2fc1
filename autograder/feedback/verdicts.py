"""The line a student reads under a graded test, in feedback and in the LMS's results alike."""

from __future__ import annotations

from autograder.sandbox.provenance import BORROWED

NO_MESSAGE = "(no message recorded: ask your instructor to grade it with `course autograde`)"


def verdict(points: float, score: float, message: str | None, zeroed: bool) -> str:
    """PASSED with the points, PARTIAL CREDIT with the points and what the check said, or FAILED with the points and
    why."""
    if score >= points:
        return f"PASSED: {score:g}/{points:g} points"
    if message and message.startswith(BORROWED):
        return (f"FAILED: {score:g}/{points:g} points. The code it graded is not your notebook's own: "
                f"{message[len(BORROWED):]}. Write this part in its answer cell.")
    if zeroed:
        return (f"FAILED: {score:g}/{points:g} points. It passed only in your own kernel: with the grader's checks "
                f"restored it fails ({message or NO_MESSAGE}). Do not change the grader's functions.")
    if score > 0:
        return f"PARTIAL CREDIT: {score:g}/{points:g} points. {message or ''}".rstrip()
    return f"FAILED: {score:g}/{points:g} points. {message or NO_MESSAGE}"

"""The `course` command: build, collect, autograde, feedback, export, report, demo, publish and reproduce.

Each command imports what it needs when it runs, so `course export` or `course report` never load torch.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from autograder.core import shutdown
from autograder.core.errors import CourseError, ReportError
from labkit import config


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="course", description="Build, grade and return the ResNet course labs.")
    p.add_argument("--root", type=Path, help="course folder holding course.toml (default: found from here)")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write goldens and regenerate assignments/ from solutions/")
    b.add_argument("labs", nargs="*", help="labs to build (default: all in course.toml)")
    col = sub.add_parser("collect", help="write submitted/<login>/<lab>/ from what Canvas, Moodle or Blackboard "
                                         "downloads, with reports/<lab>/collect.txt")
    col.add_argument("lab")
    col.add_argument("source", type=Path, help="the downloaded .zip (Canvas: Download Submissions; Moodle: Download "
                                               "all submissions; Blackboard: Assignment File Download) or the folder "
                                               "it was extracted to; only read")
    col.add_argument("--times", type=Path, metavar="FILE", help="CSV of submission times, for a download with none "
                     "(Canvas): columns lms_id or login, and submitted_at (ISO 8601, e.g. 2025-03-03T23:59:30+01:00)")
    col.add_argument("--worksheet", type=Path, metavar="FILE", help="Moodle's grading worksheet (CSV): students "
                     "matched by email, submission times from 'Last modified (submission)'")
    col.add_argument("--timezone", default="UTC", help="time zone of times given without an offset: Blackboard's "
                     "file names (the server's), Moodle's worksheet, --times (an IANA name; default UTC)")
    col.add_argument("--force", action="store_true", help="replace a different submission already in submitted/ "
                     "(moved to reports/<lab>/replaced/ first); without it, it is kept and reported")
    a = sub.add_parser("autograde", help="grade submitted/<student>/<lab>/ with nbgrader, one line each")
    a.add_argument("lab")
    a.add_argument("--student", action="append", help="grade only this student (repeatable)")
    a.add_argument("--workers", type=int, default=1, help="grade this many submissions at once on this machine "
                   "(default 1)")
    a.add_argument("--executor", choices=("local", "slurm"), default="local", help="local: workers on this machine "
                   "(default); slurm: one Slurm job array, a task per submission, as [cluster] in course.toml asks "
                   "(needs a PostgreSQL gradebook)")
    a.add_argument("--retry-failed", action="store_true", help="grade again only those marked 'needs regrading'")
    a.add_argument("--force", action="store_true", help="grade again submissions already graded and unchanged")
    f = sub.add_parser("feedback", help="write feedback/<student>/<lab>/*.html")
    f.add_argument("lab")
    e = sub.add_parser("export", help="write a CSV with one column per graded test")
    e.add_argument("lab")
    e.add_argument("--output", type=Path, help="CSV path (default reports/<lab>/grades.csv)")
    rep = sub.add_parser("report", help="write reports/<lab>/ (CSV, plots, report.html, Gradescope results) "
                                        "and reports/course-grades.csv")
    rep.add_argument("lab", nargs="?", help="the lab to report (default: every lab graded so far)")
    rep.add_argument("--similarity", type=float, default=0.5, metavar="SHARE",
                     help="list pairs of submissions sharing more than this share of either one's code beyond "
                          "the released notebook (copydetect; default 0.5)")
    d = sub.add_parser("demo", help="the instructor path end to end on a simulated class")
    d.add_argument("--dir", type=Path, default=Path("demo"), help="where to build the demo course (default ./demo)")
    pub = sub.add_parser("publish", help="write the tree students may see (no solutions, hidden tests, goldens)")
    pub.add_argument("dir", type=Path, help="the folder to write (new, or one written by an earlier publish)")
    r = sub.add_parser("reproduce", help="retrain a reference setting; write results/<lab>/<setting>.json and a table")
    r.add_argument("lab")
    r.add_argument("--setting", action="append", help="a setting's name (repeatable; default: every setting of the "
                   "lab; an unknown one lists them)")
    r.add_argument("--epochs", type=int, help="override the setting's epochs (lr schedules scale with them)")
    r.add_argument("--data", type=Path, help="CIFAR-10 folder, never downloaded (default: course.toml's data root)")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto: CUDA when present")
    r.add_argument("--output", type=Path, help="results folder (default results/ in the course folder)")
    r.add_argument("--fresh", action="store_true", help="start over, ignoring results/<lab>/<setting>.ckpt")
    r.add_argument("--image-size", type=int, help="lab 4: train on N x N images (default the handout's 512)")
    res = sub.add_parser("results", help="rewrite results/<lab>/README.md and the README's summary from the "
                                          "results' JSON (what `course reproduce` does after each run)")
    res.add_argument("--output", type=Path, help="results folder (default results/ in the course folder)")
    fs = sub.add_parser("fundus-split", help="lab 4's data: a seeded train/test split, stratified by level, of a "
                                             "downloaded fundus folder and its label CSV")
    fs.add_argument("images", type=Path, help="folder of <name>.jpeg (e.g. the Kaggle download's train/)")
    fs.add_argument("labels", type=Path, help="CSV with columns image,level (e.g. trainLabels.csv)")
    fs.add_argument("--data", type=Path, help="data root to write fundus/ into (default: course.toml's)")
    fs.add_argument("--test-fraction", type=float, default=0.2, help="share of each level for test (default 0.2)")
    fs.add_argument("--seed", type=int, default=0)
    fs.add_argument("--size", type=int, help="resize to N x N (never enlarges; default: keep the files as they are)")
    fs.add_argument("--force", action="store_true", help="replace a split already there")
    return p


def build(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.authoring.build import build as build_labs

    build_labs(course, args.labs or None)


def collect(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.grading.collect.placing import collect as collect_lab

    collect_lab(course, args.lab, args.source, args.times, args.worksheet, args.timezone, args.force)


def autograde(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.grading.autograde import autograde as grade_lab

    grade_lab(course, args.lab, args.student, workers=args.workers, retry_failed=args.retry_failed, force=args.force,
              executor=args.executor)


def feedback(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.feedback.notes import generate

    generate(course, args.lab)


def export(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.reports.csvs import write_csv

    write_csv(course, args.lab, args.output)


def report(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.reports.pages import write

    if not 0 < args.similarity <= 1:
        raise ReportError(f"--similarity must be a share between 0 and 1 (like 0.5), got {args.similarity}")
    write(course, args.lab, threshold=args.similarity)


def demo(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.demo import run as run_demo

    run_demo(course, args.dir.resolve())


def publish(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.authoring.publish import publish as publish_tree

    publish_tree(course, args.dir)


def results(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.reproduce.settings import SETTINGS
    from autograder.reproduce.tables import write_table

    folder = args.output or course.root / "results"
    for lab_id in SETTINGS:
        if (folder / lab_id).is_dir():
            print(f"{lab_id}: {write_table(lab_id, folder / lab_id)}")


def fundus_split(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.reproduce.fundus_split import describe, split

    print(describe(split(args.images, args.labels, args.data or course.data_root, args.test_fraction, args.seed,
                         args.size, args.force)))


def reproduce(course: config.Course, args: argparse.Namespace) -> None:
    from autograder.reproduce.common import pick_device
    from autograder.reproduce.runs import run as run_setting
    from autograder.reproduce.settings import default_settings

    names = args.setting or default_settings(args.lab, pick_device(args.device).type == "cuda")
    for setting in names:
        run_setting(course, args.lab, setting, args.epochs, args.data, args.device, args.output, args.fresh,
                    image_size=args.image_size)


COMMANDS = {"build": build, "collect": collect, "autograde": autograde, "feedback": feedback, "export": export,
            "report": report, "demo": demo, "publish": publish, "results": results, "fundus-split": fundus_split,
            "reproduce": reproduce}


def run(args: argparse.Namespace) -> int:
    course = config.load(args.root)
    for lab_id in [getattr(args, "lab", None), *(getattr(args, "labs", None) or [])]:
        if lab_id:
            course.lab(lab_id)
    COMMANDS[args.command](course, args)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with shutdown.stops_cleanly():  # `kill` or a closed terminal cleans up as Ctrl-C does
            return run(args)
    except (config.ConfigError, CourseError, FileNotFoundError) as error:
        print(f"course: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Python would print a traceback; what had finished is kept (README: each command)
        print(f"course: {args.command} stopped by Ctrl-C", file=sys.stderr)
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())

"""One page per student across every lab, built from records in memory: scores, verdicts, the leak filter, escaping."""

from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import unquote

from autograder.core.notebooks import GradedTest
from autograder.feedback.leaks import WITHHELD, PrivateText
from autograder.grading.outcome import Outcome
from autograder.reports import students
from autograder.reports.records import LabResults, Record
from labkit.config import LabConfig

LAB1, LAB2, LAB3 = (LabConfig("lab1", "Residual blocks", 5.0), LabConfig("lab2", "ResNet32 report", 10.0),
                    LabConfig("lab3", "ResNet44 project", 20.0))
TESTS = [GradedTest("t1", 2.0, "assert a\n"), GradedTest("t2", 3.0, "assert b\n")]
WRITTEN = [*TESTS, GradedTest("essay", 4.0, "YOUR ANSWER HERE", manual=True),
           GradedTest("photo", 1.0, "Graded by hand", manual=True)]
SECRET = "def hidden_check(model): return model.fc.out_features == 10 and model.layer4 is not None"
PRIVATE = PrivateText(SECRET, "")
FAILED = "expected 10 classes, got 1000: is the last Linear layer replaced?"


def late_bob() -> Record:
    """Lab 1, 26 h late: t2 partly failed, 1 point of late penalty."""
    return Record("bob", "graded", scores={"t1": 2.0, "t2": 1.0}, late_penalty=1.0, seconds_late=93600, max_score=5.0)


def waiting_bob() -> Record:
    """Lab 2, on time: every test passed, both written cells waiting for a manual grade."""
    return Record("bob", "graded", scores={"t1": 2.0, "t2": 3.0, "essay": 0.0, "photo": 0.0}, max_score=10.0,
                  manual=frozenset({"essay", "photo"}), pending=["essay", "photo"])


def views(lab1_message: str = FAILED) -> list[students.LabView]:
    """Lab 1 graded for bob and ada, lab 2 for bob only, lab 3 graded for nobody."""
    outcome = Outcome("bob", True, 3.0, 5.0, 12.0, messages={"t2": lab1_message},
                      repairs=["a moved test cell put back"])
    lab1 = LabResults("lab1", [Record("ada", "graded", scores={"t1": 2.0, "t2": 3.0}, max_score=5.0), late_bob()],
                      TESTS, {"bob": outcome})
    lab2 = LabResults("lab2", [waiting_bob()], WRITTEN, {})
    return [students.LabView(LAB1, lab1, PRIVATE), students.LabView(LAB2, lab2, PRIVATE), students.LabView(LAB3)]


def page(student: str = "bob", labs: list | None = None) -> str:
    return students.page("Course", student, views() if labs is None else labs)


class Parsed(HTMLParser):
    """The page's <h2> headings, every <table>'s rows as lists of cell texts, its paragraphs and its links."""

    def __init__(self, text: str):
        super().__init__()
        self.headings, self.tables, self.paragraphs, self.links, self._text = [], [], [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th", "h2", "p"):
            self._text = ""
        elif tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._text)
        elif tag == "h2":
            self.headings.append(self._text)
        elif tag == "p":
            self.paragraphs.append(self._text)
        if tag in ("td", "th", "h2", "p"):
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text += data


def section(text: str, lab_id: str) -> str:
    """The part of the page under lab `lab_id`'s heading."""
    start = text.index(f"<h2>{lab_id}: ")
    end = text.find("<h2>", start + 1)
    return text[start:end if end >= 0 else None]


def test_the_page_lists_every_lab_and_each_tests_points():
    """Does the page give every lab of the course, in order, and for a graded one each test's and written cell's
    points earned and possible?"""
    found = Parsed(page())
    assert found.headings == ["lab1: Residual blocks", "lab2: ResNet32 report", "lab3: ResNet44 project"]
    lab1 = Parsed(section(page(), "lab1")).tables[1]
    assert lab1[0] == ["test or written cell", "points", "possible", "what the student's feedback says"]
    assert [row[:3] for row in lab1[1:]] == [["t1", "2", "2"], ["t2", "1", "3"]]
    lab2 = Parsed(section(page(), "lab2")).tables[1]
    assert [row[:3] for row in lab2[1:]] == [["t1", "2", "2"], ["t2", "3", "3"], ["essay (graded by hand)", "0", "4"],
                                              ["photo (graded by hand)", "0", "1"]]


def test_a_failed_test_shows_the_feedbacks_verdict_and_a_passed_one_nothing():
    """Is a test that lost points shown with the verdict and message the student's feedback gives, a passed one
    with none, and what was repaired in the notebook said?"""
    rows = Parsed(section(page(), "lab1")).tables[1][1:]
    assert [row[3] for row in rows] == ["", f"PARTIAL CREDIT: 1/3 points. {FAILED}"]
    assert Parsed(section(page(), "lab1")).paragraphs == ["Repaired before grading: a moved test cell put back."]


def test_a_message_quoting_private_text_is_withheld():
    """Is a failed test's message (or a problem noted while grading) that the feedback's leak filter withholds
    shown only as the withheld line, never with the private text it quotes?"""
    leaking = f"assert failed in {SECRET}"
    assert PRIVATE.leaks(leaking) and not PRIVATE.leaks(FAILED)
    text = page(labs=views(leaking))
    assert Parsed(section(text, "lab1")).tables[1][2][3] == f"PARTIAL CREDIT: 1/3 points. {WITHHELD}"
    assert "hidden_check" not in text and "out_features" not in text
    crashed = Record("bob", "not graded", max_score=5.0, problems=["kernel died", f"cell raised: {SECRET}"])
    labs = [students.LabView(LAB1, LabResults("lab1", [crashed], TESTS, {}), PRIVATE)]
    assert Parsed(section(page(labs=labs), "lab1")).paragraphs == [f"not graded: kernel died; {WITHHELD}"]


def test_late_penalty_and_pending_manual_grades_are_shown():
    """Does the summary give the status, autograded points, the late penalty with how late, the manual points with
    the cells still waiting, and the final score?"""
    lab1, lab2 = (Parsed(section(page(), lab)).tables[0] for lab in ("lab1", "lab2"))
    assert lab1 == [["status", "autograded", "graded by hand", "late penalty", "final score"],
                    ["graded", "3 of 5", "none in this lab", "1 (26.0 h late)", "2 of 5"]]
    assert lab2[1] == ["graded", "5 of 5", "0 of 5; not scored yet: essay, photo", "on time",
                       "5 of 10 (will change: manual grading pending)"]
    assert Parsed(section(page(), "lab2")).tables[1][3][3] == "Graded by hand: not scored yet."


def test_a_lab_without_a_submission_says_so_in_one_line():
    """Does a lab the student did not submit (graded for others, or for nobody yet) read 'no submission' alone?"""
    for lab in ("lab2", "lab3"):
        found = Parsed(section(page("ada"), lab))
        assert (found.paragraphs, found.tables) == (["no submission"], []), lab
    assert Parsed(section(page("ada"), "lab1")).tables[0][1][0] == "graded"


def test_a_submission_that_was_not_graded_says_why():
    """Does a submission that could not be graded give its status and the reason, and one marked for regrading say
    so, with no scores?"""
    crashed = Record("cyd", "not graded", max_score=5.0, problems=["kernel died", "time limit"])
    timed_out = Outcome("cyd", False, None, 5.0, 60.0, problems=["cell timeout"], needs_regrading=True)
    regrade = Record("cyd", "not graded", max_score=5.0, problems=["cell timeout"])
    missing = Record("cyd", "not in gradebook", max_score=5.0)
    expected = [(crashed, None, "not graded: kernel died; time limit"),
                (regrade, timed_out, "needs regrading: cell timeout"),
                (missing, None, "not in gradebook: no result in the gradebook")]
    for record, outcome, line in expected:
        outcomes = {"cyd": outcome} if outcome else {}
        labs = [students.LabView(LAB1, LabResults("lab1", [record], TESTS, outcomes), PRIVATE)]
        found = Parsed(section(page("cyd", labs), "lab1"))
        assert (found.paragraphs, found.tables) == ([line], []), line


def test_names_and_messages_are_escaped():
    """Are a student id and a message holding markup shown as text, never as a tag?"""
    login, message = "<script>alert(1)</script>", "<script>steal()</script> & <b>bold</b>"
    labs = views(message)
    labs[0].results.records.append(Record(login, "graded", scores={"t1": 0.0, "t2": 3.0}, max_score=5.0))
    labs[0].results.outcomes[login] = Outcome(login, True, 3.0, 5.0, 1.0, messages={"t1": message})
    text = page(login, labs) + page("bob", labs)
    index = students.index("Course", [login, "bob"])
    for html_text in (text, index):
        assert "<script" not in html_text.lower() and "<b>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert Parsed(section(page(login, labs), "lab1")).tables[1][1][3] == f"FAILED: 0/2 points. {message}"


def test_write_links_every_students_page_from_the_index(tmp_path, monkeypatch):
    """Does write give each student with a submission a page, and the index link each of them, sorted by login
    (an odd login and one called 'index' too), and say where the index is?"""
    labs = views()
    for login in ("index", "c d/../e"):
        labs[1].results.records.append(Record(login, "not graded", max_score=10.0, problems=["kernel died"]))
    monkeypatch.setattr(students, "lab_views", lambda course: labs)
    course = SimpleNamespace(root=tmp_path, course=SimpleNamespace(title="", id="resnet"))
    lines = []
    path = students.write(course, lines.append)
    folder = tmp_path / "reports" / "students"
    assert path == folder / "index.html" and lines == [f"students: 4 page(s) -> {path}"]
    links = Parsed(path.read_text()).links
    assert len(links) == 4 and sorted(p.name for p in folder.iterdir()) == sorted(["index.html",
                                                                                    *map(unquote, links)])
    titles = [(folder / unquote(href)).read_text().split("<h1>")[1].split("</h1>")[0] for href in links]
    assert titles == ["resnet: ada", "resnet: bob", "resnet: c d/../e", "resnet: index"]
    assert (folder / "bob.html").is_file() and (folder / "ada.html").is_file()
    assert Parsed(students.index("C", ["bob", "ada"])).links == ["ada.html", "bob.html"]

"""What must not reach students: literals left out of the private text, and messages that quote it withheld."""

import pytest

from autograder.feedback.leaks import WINDOW, WITHHELD, PrivateText, squeeze, without_literals

HIDDEN = ("def check_shortcut(block, features): assert block.shortcut is not None and "
          "block.downsample.stride == features.stride, wrong")
RUN = HIDDEN[4:4 + WINDOW]  # "check_shortcut(block, features): assert " as in the hidden test


def test_without_literals_empties_strings_and_numbers():
    """Are string and number literals emptied while names, operators and comments stay as written?"""
    assert without_literals('x = compute("secret", 42) + 3.5  # note\n') == "x = compute(, ) +   # note\n"


def test_without_literals_empties_every_kind_of_literal_across_lines():
    """Are docstrings spanning lines, f-strings, bytes, hex and complex numbers emptied in place?"""
    code = 'def f():\n    """Doc\n    string."""\n    return f"{a}b" + b"\\x00" + 0x1F + 1e-3j\n'
    assert without_literals(code) == "def f():\n    \n    return  +  +  + \n"


@pytest.mark.parametrize("code", ['x = """never closed\nprint("a")\n', 'if x:\n        a = "s"\n    b = 2\n'])
def test_code_that_does_not_tokenize_is_returned_as_is(code):
    """Is code that does not tokenize (an open string, a bad dedent) returned unchanged, literals and all?"""
    assert without_literals(code) == code


def test_without_literals_keeps_its_place_after_a_form_feed():
    """Does a form-feed line (PEP 8's page break) leave the literals after it emptied in the right place?"""
    assert without_literals('x = 1\n\x0c\ny = "secret"\nz = 2\n') == "x = \n\x0c\ny = \nz = \n"


def private(visible=""):
    return PrivateText(squeeze(HIDDEN), squeeze(visible))


def test_a_window_of_private_text_is_withheld():
    """Is a message quoting a WINDOW-character run of private text withheld, even with other whitespace?"""
    message = "AssertionError in " + RUN.replace(" ", "\n    ") + "..."
    assert private().leaks(message)
    assert private().clean(message) == WITHHELD


def test_private_text_students_also_see_is_not_withheld():
    """Is a message kept when the run it quotes is also in the text the students were given?"""
    message = "AssertionError in " + RUN + "..."
    text = private(visible="# the visible test:\n" + HIDDEN[:60])
    assert not text.leaks(message)
    assert text.clean(message) == message


def test_short_overlaps_are_not_withheld():
    """Is a message kept when it shares at most WINDOW - 1 characters with the private text?"""
    message = "got:" + RUN[:WINDOW - 1] + "!"  # the characters around the run differ from the private ones
    assert not private().leaks(message) and private().clean(message) == message
    assert not private().leaks(RUN[:WINDOW - 1])
    assert private().leaks(RUN)  # exactly WINDOW characters is enough

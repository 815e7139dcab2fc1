"""`labkit.selfcheck`: one pass/fail line per part, on the notebook's own names, never raising."""

import pytest

import harness
from labkit import self_check
from autograder.core import notebooks


def test_every_lab_has_a_selfcheck(kit):
    """Does every lab in course.toml have a self-check, and every source notebook a cell calling it?"""
    assert set(self_check.PARTS) == set(kit.labs)
    for lab in kit.labs:
        assert any(f'labkit.selfcheck("{lab}")' in cell.source for cell in harness.source_notebook(lab).cells)


@pytest.mark.parametrize("lab", sorted(self_check.PARTS))
def test_reference_passes_every_part(lab, capsys):
    """Does the reference solution pass every part, printed as PASS lines and a total?"""
    namespace = harness.definitions(harness.source_notebook(lab), harness.reference(lab))
    results = self_check.selfcheck(lab, namespace)
    assert results and all(results.values())
    out = capsys.readouterr().out
    assert out.count("PASS") == len(results) and f"{len(results)}/{len(results)} parts pass" in out


@pytest.mark.parametrize("lab", sorted(self_check.PARTS))
def test_skeleton_fails_every_part_with_a_reason(lab, capsys):
    """Does the untouched skeleton fail every part, each line saying why, without raising?"""
    release = notebooks.read(harness.ROOT / "assignments" / lab / f"{lab}.ipynb")
    namespace = harness.definitions(harness.source_notebook(lab), notebooks.solution_cells(release))
    results = self_check.selfcheck(lab, namespace)
    assert results and not any(results.values())
    out = capsys.readouterr().out
    assert out.count("FAIL") == len(results) and "not written yet" in out


def test_undefined_names_are_named(capsys):
    """Does a part whose cell was never run say which names are missing?"""
    self_check.selfcheck("lab2", {})
    assert "not defined yet: IdentityPadding (run its cell)" in capsys.readouterr().out


def test_grading_skips_the_self_check(capsys, monkeypatch):
    """While grading, does the self-check say it is skipped and run no check (the hidden tests grade every part)?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert self_check.selfcheck("lab2", {}) == {}
    out = capsys.readouterr().out
    assert "skipped while grading" in out and "not defined yet" not in out

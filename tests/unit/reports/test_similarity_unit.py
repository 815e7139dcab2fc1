"""Similar submissions on the report: copydetect over the students' code, the released notebook as boilerplate."""

import pytest

from autograder import mistakes
from autograder.core import notebooks
from autograder.reports import pages, similarity
from harness import ROOT, reference

LAB = "lab4"
OWN_METRICS = '''def confusion_matrix(labels, predictions, num_classes):
    table = np.zeros((num_classes, num_classes), dtype=np.int64)
    for truth, guess in zip(labels, predictions):
        table[truth][guess] += 1
    return table


def balanced_accuracy(matrix):
    per_class = [matrix[k, k] / matrix[k].sum() for k in range(len(matrix)) if matrix[k].sum()]
    return float(sum(per_class) / len(per_class))


def majority_baseline(labels):
    counts = np.bincount(np.asarray(labels))
    return counts.max() / counts.sum()
'''


@pytest.fixture(scope="module")
def release():
    return notebooks.read(ROOT / "assignments" / LAB / f"{LAB}.ipynb")


@pytest.fixture(scope="module")
def codes(release):
    """ann wrote every part; ben copied ann and renamed things; cai wrote the metrics alone, their own way;
    dee and eve handed in the untouched skeleton."""
    ann = similarity.code_of(mistakes.fill(release, reference(LAB)))
    ben = ann.replace("confusion", "conf_mat").replace("labels", "targets").replace("# ", "#  mine: ")
    cai = similarity.code_of(mistakes.fill(release, {"metrics_answer": OWN_METRICS}))
    skeleton = similarity.code_of(release)
    return {"ann": ann, "ben": ben, "cai": cai, "dee": skeleton, "eve": skeleton}


def test_a_renamed_copy_is_listed_with_its_shared_lines(codes, release):
    """Is the pair of a submission and its renamed copy listed, with lines they share, and no other pair:
    not an independent answer, not two untouched skeletons (the released code does not count)?"""
    pairs = similarity.similar_files(codes, similarity.code_of(release))
    assert [{pair.first, pair.second} for pair in pairs] == [{"ann", "ben"}]
    assert min(pairs[0].similarity) > 0.9
    assert any("def __len__(self):" in line for line in pairs[0].shared)


def test_the_threshold_decides(codes, release):
    """With the threshold above the copy's share, is nothing listed?"""
    pair = similarity.similar_files(codes, similarity.code_of(release))[0]
    assert similarity.similar_files(codes, similarity.code_of(release), min(1.0, max(pair.similarity) + 0.001)) == []


def test_without_boilerplate_the_skeletons_match(codes):
    """Is the boilerplate what keeps two untouched skeletons off the list (they are identical code)?"""
    pairs = similarity.similar_files({"dee": codes["dee"], "eve": codes["eve"]}, "")
    assert [{pair.first, pair.second} for pair in pairs] == [{"dee", "eve"}]


def test_the_section_escapes_and_cuts_the_lines():
    pair = similarity.Pair("ann", "<b>ben</b>", (0.98, 0.75), [f"x{i} = '<i>'" for i in range(20)])
    section = pages.similarity_section([pair], 0.5)
    assert "&lt;b&gt;ben&lt;/b&gt;" in section and "<b>ben" not in section
    assert "98%" in section and "75%" in section and "x11 = " in section and "x12 = " not in section
    assert "... and 8 more lines" in section
    assert "No pair above the threshold" in pages.similarity_section([], 0.5)

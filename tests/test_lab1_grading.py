"""Lab 1's graded tests, run in-process: the reference passes all, the skeleton none, and each
known mistake fails exactly the tests that should catch it."""

import pytest

import harness
from autograder import mistakes, notebooks
from labkit import checks

LAB = "lab1"
MISTAKES = mistakes.catalogue(LAB)


@pytest.fixture(scope="module")
def reference():
    return harness.reference(LAB)


@pytest.fixture(scope="module")
def test_ids():
    return {t.grade_id for t in notebooks.graded_tests(harness.source_notebook(LAB))}


def test_reference_passes_every_test(reference):
    """Does the reference solution pass every graded test?"""
    assert harness.failing_tests(LAB, reference) == {}


def test_skeleton_fails_every_test(test_ids):
    """Does the untouched student notebook fail every graded test?"""
    release = notebooks.read(harness.ROOT / "assignments" / LAB / f"{LAB}.ipynb")
    stubs = notebooks.solution_cells(release)
    assert set(harness.failing_tests(LAB, stubs)) == test_ids


def test_every_test_has_a_mistake_it_catches(test_ids):
    """Is each graded test the one that catches at least one known mistake?"""
    caught = set().union(*(m.fails for m in MISTAKES))
    assert test_ids - caught == set()
    assert caught - test_ids == set(), "a mistake names a test that does not exist"


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_mistake_fails_exactly_its_tests(reference, mistake):
    """Does this mistake lose exactly the points of the tests that should catch it?"""
    failures = harness.failing_tests(LAB, mistakes.apply(reference, mistake))
    assert set(failures) == mistake.fails, failures


def test_failure_messages_say_expected_and_found(reference):
    """Does a failing test say what it expected, what it found and where to look?"""
    failures = harness.failing_tests(LAB, mistakes.apply(reference, next(m for m in MISTAKES if m.name == "maxpool_padding_0")))
    message = failures["resnet50_layer1_shape"]
    assert "(2, 64, 7, 7)" in message and "expected (2, 64, 8, 8)" in message and "MaxPool2d(3, stride 2, padding 1)" in message


def test_visible_checks_pass_on_reference_and_name_the_problem(reference):
    """Do the visible checks pass on the reference and point at the stage of a mistake?"""
    namespace = harness.definitions(harness.source_notebook(LAB), reference)
    checks.check_conv_helpers(namespace["conv1x1"], namespace["conv3x3"])
    checks.check_residual_block(namespace["ResidualBlock"])
    checks.check_resnet50(namespace["ResNet50_layer4"])
    checks.check_vgg(namespace["make_layers"], namespace["VGG"], namespace["VGG16_CFG"])
    wrong = harness.definitions(harness.source_notebook(LAB), mistakes.apply(
        reference, next(m for m in MISTAKES if m.name == "layer2_never_downsamples")))
    with pytest.raises(checks.CheckFailed, match=r"layer2 output is \(2, 256, 8, 8\), expected \(2, 256, 4, 4\)"):
        checks.check_resnet50(wrong["ResNet50_layer4"])

"""Each lab's graded tests, run in-process: the reference passes all, the skeleton none, and each
known mistake fails exactly the tests that should catch it."""

import pytest

import harness
from autograder import mistakes
from autograder.core import notebooks
from labkit import checks

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

LABS = harness.LABS
MISTAKES = [(lab, m) for lab in LABS for m in mistakes.catalogue(lab)]


def graded_ids(lab):
    return {t.grade_id for t in notebooks.graded_tests(harness.source_notebook(lab))}


def mistake(lab, name):
    return next(m for m in mistakes.catalogue(lab) if m.name == name)


def test_every_configured_lab_has_checks_and_mistakes(kit):
    """Has every lab in course.toml its hidden checks and at least one known mistake?"""
    for lab in kit.labs:
        assert mistakes.catalogue(lab), lab
        assert (harness.ROOT / "autograder" / "checks" / f"{lab}.py").is_file(), lab


@pytest.mark.parametrize("lab", LABS)
def test_reference_passes_every_test(lab):
    """Does the reference solution pass every graded test?"""
    assert harness.failing_tests(lab, harness.reference(lab)) == {}


@pytest.mark.parametrize("lab", LABS)
def test_skeleton_fails_every_test(lab):
    """Does the untouched student notebook fail every graded test?"""
    release = notebooks.read(harness.ROOT / "assignments" / lab / f"{lab}.ipynb")
    assert set(harness.failing_tests(lab, notebooks.solution_cells(release))) == graded_ids(lab)


@pytest.mark.parametrize("lab", LABS)
def test_every_test_has_a_mistake_it_catches(lab):
    """Is each graded test the one that catches at least one known mistake?"""
    caught = set().union(*(m.fails for m in mistakes.catalogue(lab)))
    assert graded_ids(lab) - caught == set()
    assert caught - graded_ids(lab) == set(), "a mistake names a test that does not exist"


@pytest.mark.parametrize("lab, mistake", MISTAKES, ids=[f"{lab}-{m.name}" for lab, m in MISTAKES])
def test_mistake_fails_exactly_its_tests(lab, mistake):
    """Does this mistake lose exactly the points of the tests that should catch it?"""
    failures = harness.failing_tests(lab, mistakes.apply(harness.reference(lab), mistake))
    assert set(failures) == mistake.fails, failures


def test_failure_messages_say_expected_and_found():
    """Does a failing test say what it expected, what it found and where to look?"""
    failures = harness.failing_tests("lab1", mistakes.apply(harness.reference("lab1"), mistake("lab1", "maxpool_padding_0")))
    message = failures["resnet50_layer1_shape"]
    assert "(2, 64, 7, 7)" in message and "expected (2, 64, 8, 8)" in message and "MaxPool2d(3, stride 2, padding 1)" in message


def test_lab1_visible_checks_pass_on_reference_and_name_the_problem():
    """Do lab 1's visible checks pass on the reference and point at the stage of a mistake?"""
    source, reference = harness.source_notebook("lab1"), harness.reference("lab1")
    namespace = harness.definitions(source, reference)
    checks.check_conv_helpers(namespace["conv1x1"], namespace["conv3x3"])
    checks.check_residual_block(namespace["ResidualBlock"])
    checks.check_resnet50(namespace["ResNet50_layer4"])
    checks.check_vgg(namespace["make_layers"], namespace["VGG"], namespace["VGG16_CFG"])
    wrong = harness.definitions(source, mistakes.apply(reference, mistake("lab1", "layer2_never_downsamples")))
    with pytest.raises(checks.CheckFailed, match=r"layer2 output is \(2, 256, 8, 8\), expected \(2, 256, 4, 4\)"):
        checks.check_resnet50(wrong["ResNet50_layer4"])


def test_lab2_visible_checks_pass_on_reference_and_name_the_problem():
    """Do lab 2's visible checks pass on the reference and catch a shortcut padded in front?"""
    source, reference = harness.source_notebook("lab2"), harness.reference("lab2")
    namespace = harness.definitions(source, reference)
    checks.check_identity_padding(namespace["IdentityPadding"])
    checks.check_basic_block(namespace["ResidualBlock"])
    checks.check_cifar_resnet(namespace["resnet"])
    wrong = harness.definitions(source, mistakes.apply(reference, mistake("lab2", "zero_channels_first")))
    with pytest.raises(checks.CheckFailed, match="first 16 channels"):
        checks.check_identity_padding(wrong["IdentityPadding"])


def test_lab3_visible_checks_pass_on_reference_and_name_the_problem():
    """Do lab 3's visible checks pass on the reference and catch statistics left in 0..255?"""
    source, reference = harness.source_notebook("lab3"), harness.reference("lab3")
    namespace = harness.definitions(source, reference)
    checks.check_channel_stats(namespace["channel_stats"], namespace["per_image_stats"])
    checks.check_train_transform(namespace["train_transform"])
    checks.check_split(namespace["split_indices"])
    checks.check_resnet44(namespace["resnet44"])
    checks.check_loop(namespace["train_one_epoch"], namespace["validate"], namespace["fit"])
    wrong = harness.definitions(source, mistakes.apply(reference, mistake("lab3", "stats_unscaled")))
    with pytest.raises(checks.CheckFailed, match=r"in \[0, 1\]"):
        checks.check_channel_stats(wrong["channel_stats"], wrong["per_image_stats"])

"""Checks that read only shapes, structure and parameter counts run on the meta device, and give exactly the CPU's
verdict: a check that cannot run there, or fails there, runs again as written."""

import importlib

import pytest
import torch
from torch import nn

from autograder.checks import golden
from autograder.checks.common import count, expect_shape, shape_of
from labkit.device import meta_first
from autograder.sandbox.verify import CellTimeout


class ReadsAValue(nn.Module):
    """Right shapes, but its forward reads a value (fails on the meta device, runs on the CPU)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return self.conv(x) * (1.0 if x.sum().item() == x.sum().item() else 2.0)


class Drops(nn.Module):
    """A real mistake: halves the size where it should keep it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


@meta_first
def keeps_size(factory) -> str:
    """A check like the labs': (2, 3, 8, 8) -> (2, 8, 8, 8); returns where its parameters were made."""
    model = factory()
    expect_shape("the network on (2, 3, 8, 8)", shape_of(model, (2, 3, 8, 8)), (2, 8, 8, 8), "padding 1")
    return next(model.parameters()).device.type


def test_a_check_that_runs_on_meta_makes_no_values():
    """Does a shape check of an ordinary network run on the meta device (no weights initialised, no arithmetic)?"""
    assert keeps_size(lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())) == "meta"


def test_a_check_that_cannot_run_on_meta_runs_on_the_cpu():
    """Does a network that reads a value in forward pass, as it does on the CPU?"""
    assert keeps_size(ReadsAValue) == "cpu"


def test_a_mistake_fails_with_the_cpus_message():
    """Does a wrong shape fail, with the message the check gives on the CPU?"""
    with pytest.raises(AssertionError, match=r"output shape \(2, 8, 4, 4\), expected \(2, 8, 8, 8\)"):
        keeps_size(Drops)


def test_counts_on_meta_are_the_cpus():
    """Does a parameter count on the meta device equal the CPU's?"""
    def network():
        return nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.Linear(64, 10))
    assert meta_first(lambda: count(network()))() == count(network()) == 1792 + 128 + 650


@pytest.mark.parametrize("stop", [KeyboardInterrupt, CellTimeout])
def test_an_interrupted_check_is_not_run_again(stop):
    """Does an interrupt or the re-run's cell time limit end the check instead of starting it again on the CPU?"""
    runs = []

    @meta_first
    def interrupted():
        runs.append(torch.empty(1).device.type)
        raise stop()

    with pytest.raises(stop):
        interrupted()
    assert runs == ["meta"]


def test_fixed_values_are_float64_and_fixed_by_name():
    """Are the golden weights float64, the same for the same name and different for another name?"""
    like = torch.empty(16, 8, 3, 3)
    first, again = golden.fixed_value("layer.0.weight", like), golden.fixed_value("layer.0.weight", like)
    other = golden.fixed_value("layer.1.weight", like)
    assert first.dtype == torch.float64 and first.shape == like.shape
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert 0.5 < first.std().item() * (8 * 3 * 3) ** 0.5 < 2  # scaled by 1 / sqrt(fan_in)


def test_a_golden_of_a_network_built_on_meta_is_the_cpus():
    """Does a network built on the meta device give, with fixed weights, exactly the CPU-built network's output?"""
    def network():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1))
    with torch.device("meta"):
        on_meta = network()
    got = golden.golden_output(on_meta, "case", (2, 3, 6, 6))
    assert got.device.type == "cpu" and got.dtype == torch.float64
    assert torch.equal(got, golden.golden_output(network(), "case", (2, 3, 6, 6)))
    assert on_meta[1].num_batches_tracked.item() == 0


def test_a_golden_check_computes_on_the_cpu_inside_a_meta_check():
    """Inside a check run on the meta device, does golden_output still compute real values on the CPU?"""
    @meta_first
    def output():
        return golden.golden_output(nn.Conv2d(3, 4, 1), "case", (1, 3, 2, 2))
    got = output()
    assert got.device.type == "cpu" and torch.equal(got, golden.golden_output(nn.Conv2d(3, 4, 1), "case", (1, 3, 2, 2)))


@pytest.mark.parametrize("test", ["resnet50_stage_shape", "conv_helpers_shape"])
def test_a_failed_meta_first_check_gives_students_its_message(test):
    """Does a check run meta first (under torch.no_grad too) still count as the kit's code, so that the clean re-run
    gives students its AssertionError, not 'an error raised while the test ran your code'?"""
    import harness
    from autograder import mistakes
    from autograder.checks import lab1
    from autograder.core import modules
    from autograder.sandbox import verify

    mistake = {"resnet50_stage_shape": "maxpool_padding_0", "conv_helpers_shape": "dilated_conv3x3"}[test]
    wrong = next(m for m in mistakes.catalogue("lab1") if m.name == mistake)
    parts = harness.definitions(harness.source_notebook("lab1"), mistakes.apply(harness.reference("lab1"), wrong))
    trusted = verify.kit_code([importlib.import_module(name) for name in (*modules.CHECK_HELPERS, modules.lab_checks("lab1"))])
    args = (parts["ResNet50_layer4"], "layer1") if test == "resnet50_stage_shape" else (parts["conv1x1"],
                                                                                       parts["conv3x3"])
    with pytest.raises(AssertionError) as failed:
        getattr(lab1, test)(*args)
    assert verify.message(failed.value, trusted).startswith("AssertionError: ")

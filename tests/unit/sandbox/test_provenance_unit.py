"""Whose code passed a test: the notebook's own cells, or code borrowed from the kit or from nowhere."""

import dataclasses
import functools
import json
import subprocess
import sys

import pytest
import torch

from autograder.checks import golden
from autograder.core import layout
from autograder.sandbox import provenance

CELLS = ['''
import functools
import torch
from torch import nn


def conv3x3(c_in, c_out, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.BatchNorm2d(c_out), nn.ReLU())


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = conv3x3(c, c)

    def forward(self, x):
        return self.body(x) + x
''', '''
@torch.no_grad()
def predict(model, x):
    return model(x).argmax(1)


scale = functools.partial(torch.mul, 2)
''']
PARTS = {"conv3x3", "Block", "predict", "scale", "Point"}


def run(cells: list[str]) -> dict:
    """The namespace the cells leave, run as a kernel would run them."""
    namespace = {"__name__": "__main__"}
    for source in cells:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def origin(cells=CELLS) -> provenance.Provenance:
    return provenance.Provenance(provenance.notebook_code(cells, lambda source: source), PARTS)


def test_the_notebooks_own_code_is_its_own():
    """Are functions, classes, decorated functions and partials written in the cells the notebook's own?"""
    namespace = run(CELLS)
    assert origin().borrowed(namespace, ["conv3x3", "Block", "predict", "scale"]) is None


def test_code_imported_from_the_kits_reference_is_borrowed():
    """Is a part taken from the kit's reference parts (a private file) borrowed, and named?"""
    reference = golden.load_reference("lab1")
    namespace = {**run(CELLS), "conv3x3": reference.conv3x3}
    found = origin().borrowed(namespace, ["conv3x3"])
    assert found.startswith("conv3x3 uses conv3x3 from autograder/goldens/lab1_reference.py")


def test_code_compiled_from_text_no_cell_holds_is_borrowed():
    """Is a part exec'd from a string (the kit's file read at run time) borrowed even under an IPython name?"""
    namespace = run(CELLS)
    exec(compile("def conv3x3(c_in, c_out, stride=1):\n    return None\n", "<ipython-input-9-abc>", "exec"), namespace)
    assert "whose code no cell of this notebook holds" in origin().borrowed(namespace, ["conv3x3"])


def test_a_wrapper_or_a_subclass_of_borrowed_code_is_borrowed():
    """Does a part written in a cell that delegates to, or subclasses, the kit's reference count as borrowed?"""
    cells = [*CELLS, "def helper(*args):\n    return _ref.conv3x3(*args)\n",
             "class Block(_ref.ResidualBlock):\n    pass\n"]
    namespace = run(CELLS)
    namespace["_ref"] = golden.load_reference("lab1")
    for source in cells[2:]:
        exec(compile(source, "<cell>", "exec"), namespace)
    assert "the grader's own code" in origin(cells).borrowed(namespace, ["helper"])
    assert origin(cells).borrowed(namespace, ["Block"]).startswith("Block uses base class ResidualBlock")


def test_a_wrapper_around_a_borrowed_function_is_followed_through_its_globals():
    """Is a function the part calls through a global (not itself a graded part) checked too?"""
    cells = [*CELLS, "def conv3x3(*args):\n    return _borrowed(*args)\n"]
    namespace = run(cells)
    namespace["_borrowed"] = golden.load_reference("lab1").conv3x3
    assert "_borrowed" not in PARTS and origin(cells).borrowed(namespace, ["conv3x3"]) is not None


def test_borrowed_code_behind_a_cache_or_in_an_instance_is_found():
    """Is a borrowed function wrapped by functools.lru_cache, or an instance of a borrowed class, borrowed?"""
    reference = golden.load_reference("lab1")
    cells = [*CELLS, "def conv1x1(c_in, c_out):\n    return _block\n"]
    namespace = run(cells)  # the cells' functions read their globals from this very dict
    namespace.update(conv3x3=functools.lru_cache(reference.conv3x3), _block=reference.ResidualBlock(4, 2, 4))
    assert "the grader's code" in origin(cells).borrowed(namespace, ["conv3x3"])
    assert "the grader's code" in origin(cells).borrowed(namespace, ["conv1x1"])
    namespace["_block"] = torch.nn.Conv2d(2, 2, 1)
    assert origin(cells).borrowed(namespace, ["conv1x1"]) is None


def test_other_graded_parts_are_left_to_their_own_tests():
    """Is a part that uses another graded part (borrowed) judged on its own code only?"""
    namespace = run(CELLS)
    namespace["conv3x3"] = golden.load_reference("lab1").conv3x3  # Block's own code is still the notebook's
    assert origin().borrowed(namespace, ["Block"]) is None


def test_library_code_and_generated_dataclass_methods_are_not_borrowed():
    """Are torch's functions, a partial of them and a dataclass's generated methods accepted?"""
    cells = [*CELLS, "import dataclasses\n\n@dataclasses.dataclass\nclass Point:\n    x: int = 0\n"]
    namespace = {**run(cells), "relu": torch.relu, "cached": functools.lru_cache}
    assert dataclasses.is_dataclass(namespace["Point"])
    assert origin(cells).borrowed(namespace, ["Point", "scale"]) is None


def test_graded_names_are_the_parts_a_test_mentions():
    """Does a test cell's code name exactly the parts it passes, in order, and nothing when it does not parse?"""
    source = "### BEGIN HIDDEN TESTS\ngrade.block_shape(Block, conv3x3)\nprint(other)\n### END HIDDEN TESTS\n"
    assert provenance.graded_names(source, PARTS) == ["Block", "conv3x3"]
    assert provenance.graded_names("grade.f(Block", PARTS) == []


def test_the_parts_are_the_reference_modules_own_functions_and_classes():
    """Are a lab's parts the functions and classes its reference defines, not what it imports?"""
    parts = provenance.part_names(golden.load_reference("lab1"))
    assert {"conv1x1", "conv3x3", "ResidualBlock", "ResNet50_layer4", "make_layers"} <= parts
    assert "nn" not in parts and "Sequential" not in parts


IN_IPYTHON = '''
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from autograder.sandbox import provenance
cell = sys.stdin.read()
shell = InteractiveShell.instance()
own = provenance.notebook_code([cell], shell.transform_cell)
shell.run_cell(cell, store_history=False, silent=True)
print(json.dumps(provenance.Provenance(own, {"dump"}).borrowed(shell.user_ns, ["dump"])))
'''
OWN_CELLS = {  # answer cells whose bytecode, run by IPython one statement at a time, differs from the whole cell's
    "a module imported in the same cell": "import json\nimport numpy as np\n\n"
                                          "def dump(x):\n    return json.dumps(np.asarray(x).tolist())\n",
    "wrapped by a function of the same name": "import json\n\ndef dump(x):\n    return json.dumps(x)\n\n"
                                              "_plain = dump\n\ndef dump(x):\n    return _plain(list(x))\n",
}


@pytest.mark.parametrize("cell", OWN_CELLS.values(), ids=OWN_CELLS)
def test_a_function_ipython_runs_statement_by_statement_is_its_own(cell):
    """Run by IPython (one statement at a time, as the clean re-run runs a cell), is a function that calls a module
    imported in its own cell, or wraps a function of the same name, the notebook's own code (its bytecode differs
    from the whole cell's compiled at once)?"""
    done = subprocess.run([sys.executable, "-c", IN_IPYTHON], input=cell, capture_output=True, text=True,
                          timeout=120, cwd=layout.KIT_DIR)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) is None

"""Can a grading kernel run as the sandbox's unprivileged user here? Run as that user, in the sandbox, as a fork of
the kernels' zygote: imports what a kernel and the clean re-run import (the kit's files read as that user), finds
torch's files, and writes FOLDER/ok when all of it worked.

    python -m autograder.sandbox.probe FOLDER    (session.user_available runs it)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from autograder.core import modules


def main(folder: str) -> None:
    importlib.import_module("ipykernel")
    importlib.import_module(modules.VERIFY)
    assert importlib.util.find_spec("torch"), "torch cannot be found"
    with open(os.path.join(folder, "ok"), "w") as done:
        done.write("1")


if __name__ == "__main__":
    main(sys.argv[1])

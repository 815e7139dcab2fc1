"""`python -m autograder.sandbox SANDBOX_JSON -- COMMAND`: exec a command in the sandbox (the kernel-user probe)."""

import sys

from autograder.sandbox.session import main

main(sys.argv[1:])

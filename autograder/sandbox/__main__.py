"""`python -m autograder.sandbox LIMITS CGROUP PLAN -- COMMAND`: the grading kernel's launcher."""

import sys

from autograder.sandbox.session import main

main(sys.argv[1:])

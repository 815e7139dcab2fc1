# nbgrader reads this file; every setting comes from course.toml (autograder/nbconfig.py).
from autograder.nbconfig import configure

configure(get_config())

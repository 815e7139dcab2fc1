# nbgrader reads this file; every setting comes from course.toml (autograder/grading/nbconfig.py).
# nbgrader only logs errors in config files and goes on with its defaults: stop instead.
from autograder.grading.nbconfig import configure

try:
    configure(get_config())
except Exception as error:
    raise SystemExit(f"nbgrader_config.py: {error}")

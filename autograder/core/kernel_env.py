"""Environment variables the grader sets for a grading kernel: set on the grading side, read in the kernel.

Names only, so that the grading process (a Slurm task too) sets them without importing torch or nbgrader.
"""

DATA_ENV = "LABKIT_DATA"                   # the data root: where the accuracy test finds its test images
ACCURACY_ENV = "COURSE_ACCURACY_POINTS"    # "ZERO,FULL": test accuracy (%) worth no point, and every point
DEATH_RECORD = "COURSE_KERNEL_DEATH"       # the file execute.WatchedExecute records a kernel's death in

"""Where student code runs while it is graded: limits, isolation, the kernel's session, the clean re-run."""

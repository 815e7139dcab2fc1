"""What every part of the autograder may use: the course layout, notebooks, processes, errors."""

"""What students read: verdicts under graded tests, the leak filter, the feedback preprocessor, notes."""

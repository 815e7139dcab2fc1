"""What instructors read: the grade records, CSVs, plots, the HTML page, Gradescope's results."""

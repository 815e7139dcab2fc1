"""`course collect`: submissions downloaded from Canvas, Moodle or Blackboard, written in nbgrader's layout.

sources.py opens the download (a .zip or a folder, zips inside it), lms.py recognises the LMS by its file names,
times.py reads submission times (--times, Moodle's worksheet, Blackboard's names), placing.py matches each
submission to the class list and writes submitted/<login>/<lab>/ with a report.
"""

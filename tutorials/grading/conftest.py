"""The grader's header: which exercise files are graded (see grader.py)."""
import grader


def pytest_report_header(config):
    return f"grading the exercises in {grader.exercise_folder()} (set PYNNCOMP_EXERCISES to change it)"

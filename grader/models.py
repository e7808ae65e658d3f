"""Learner code submissions (the grader issue fills this app)."""

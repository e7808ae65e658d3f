"""Run untrusted learner code: a warm parent forks one sandboxed child per submission."""

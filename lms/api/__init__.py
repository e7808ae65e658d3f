"""The REST API for LMS servers (API clients with scoped tokens, bound to courses): rosters,
grades, quizzes, code submissions and grade webhooks."""

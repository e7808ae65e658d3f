"""The base layer: what every app shares and no app owns.

Errors and their one JSON shape, the API's plumbing, request typing, the rules for values
from outside, the retry schedule and the outbox. It imports no app of ours (import-linter
holds it to that; see pyproject.toml), so any app may import it.
"""

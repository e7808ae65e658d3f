"""Question-bank file formats other than our JSON (assessments/bank_format.py): each reader
turns a file into banks in the JSON form plus a report of what it skipped or refused, so
that every import is validated and written by one path (assessments/bank_transfer.py)."""

"""Reads of guided practice, one module per concern. Every function costs a fixed number of
queries, however long the session has run or however large the class."""

"""The API's plumbing, shared by every app's endpoints: one error shape, strict input,
pages that refuse what they cannot use, and a JSON parser with a bounded depth."""

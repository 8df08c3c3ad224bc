"""Property tests over every parser a user or an LLM feeds (docs/fuzzing.md)."""

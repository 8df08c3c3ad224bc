"""The adaptive curriculum: difficulty controllers, curation policies, state, the scheduler."""

"""Scoring model responses on held-out benchmarks (MATH-500, AIME, AMC, MMLU-Pro, BBEH, GPQA)."""

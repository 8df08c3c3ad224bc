"""Synthesis: programming problems in, validated and calibrated environments out."""

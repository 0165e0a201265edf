"""Table declarations and their generators."""

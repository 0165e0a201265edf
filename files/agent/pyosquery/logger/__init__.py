"""Results and status logs."""

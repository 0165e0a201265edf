"""pyosquery.profile."""

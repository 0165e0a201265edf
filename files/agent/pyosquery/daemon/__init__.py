"""pyosquery.daemon."""

"""pyosquery.shell."""

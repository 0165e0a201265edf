"""Durable agent state."""

"""The schedule: when queries run, what they cost, what they log."""

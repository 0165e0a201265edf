"""SQL engine: one apsw connection with a virtual table per declared table."""

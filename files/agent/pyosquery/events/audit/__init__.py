"""The audit netlink publisher (auditeventpublisher): process_events and socket_events."""

"""Issue 13 beside issue 11: events the database refuses (a full disk) are counted lost and said
once, the writer thread goes on, and writing resumes when space returns."""

import logging

from conftest import fill
from pyosquery.events.hub import Hub
from pyosquery.flags import Values

TABLE = "hardware_events"


def test_a_full_disk_costs_events_counted_lost_and_writing_resumes(small_tmpfs, caplog):
    values = Values()
    values.set("disable_events", False)
    hub = Hub(values, str(small_tmpfs / "events.db"), classes=[])
    caplog.set_level(logging.INFO, logger="pyosquery.events")
    rows = [{"action": "insert", "path": "/dev/x%04d" % i, "model": "m" * 300} for i in range(3000)]
    try:
        filler = fill(small_tmpfs)
        for _ in range(2):
            hub.emit(TABLE, rows)
            hub.flush()
        assert hub.lost[TABLE] >= 3000 and hub.writing_failed
        assert caplog.text.count("Cannot write events to the database %s" % hub.buffer.path) == 1
        filler.unlink()
        hub.emit(TABLE, rows[:10])
        hub.flush()
        assert not hub.writing_failed and "Writing events to the database %s again" % hub.buffer.path in caplog.text
        assert hub.buffer.counts[TABLE] >= 10
        assert "Events lost: " in caplog.text
    finally:
        hub.stop()

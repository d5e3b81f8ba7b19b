"""Events, organizations and the staff roles on each event."""

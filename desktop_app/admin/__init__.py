"""The Admin panel: people, groups and queues, calendars, mail, object types."""

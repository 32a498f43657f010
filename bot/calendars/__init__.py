"""People's own calendars: feeds and CalDAV accounts read for busy times, sessions written to CalDAV, and a
private feed of each person's sessions. The functions the chat and the CLI call are in service.py."""

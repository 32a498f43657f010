"""The console chat: the same conversations in a terminal, no tokens needed."""

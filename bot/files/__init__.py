"""Files people attach to requests: taken in by the chat adapters (bot.files.intake), kept in a directory
(bot.files.store), sent on as files or as a sign-in link (bot.files.outgoing), opened in the browser
(bot.files.web) and deleted with the booking's retention (bot.files.retention)."""

"""The Telegram adapter: PTB updates in, outbox payloads out, within Telegram's flood limits."""

"""The Slack adapter: Bolt requests in, outbox payloads out as Block Kit messages."""

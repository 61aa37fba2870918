"""The web channel: messages shown on a citizen's status page."""

"""Electronic signatures (TTE): PDF rendering, PAdES signing providers, verification."""

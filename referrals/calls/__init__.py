"""The hub\x27s phone line: log a call, and turn it into a self-referral or a volunteer request."""

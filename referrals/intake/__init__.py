"""Referral intake: the practice form and the one intake service every path uses."""

"""The partner's redemption pages (`partner`: submit, amend, request detail) and the QTM
reviewer's queue and review screen (`review`)."""

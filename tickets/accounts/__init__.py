"""Staff logins: API tokens that expire and are revoked, sessions, lockouts."""

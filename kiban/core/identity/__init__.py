"""Staff identity: users, roles and permissions, passwords, sessions, API tokens and the TOTP second factor."""

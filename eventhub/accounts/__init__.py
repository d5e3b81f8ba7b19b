"""Users, sign-in with password or magic link, sessions."""

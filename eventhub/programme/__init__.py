"""Rooms, tracks, sessions, personal agendas, workshop sign-up and calendar feeds."""

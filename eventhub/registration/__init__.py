"""Registrations, tickets and check-in."""

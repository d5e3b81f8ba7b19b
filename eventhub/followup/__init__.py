"""Follow-up after an event: leads to adoption, follow-up mail, post-event report."""

"""Live polls: questions, votes, tallies, presenter view and result streams."""

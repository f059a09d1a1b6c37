"""Follow-up tickets: the questions, and the answers an agent records after calling."""

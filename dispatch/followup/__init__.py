"""Follow-ups (回访) after a placement: questions to both sides, reminders, tickets, ratings."""

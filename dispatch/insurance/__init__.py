"""Day insurance (零工日险): an enrolment per worker per confirmed working day."""

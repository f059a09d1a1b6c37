"""Wage cases: the list, the case page with its evidence, and the steps of mediation."""

"""Wage cases (欠薪调解): a worker not (fully) paid, mediated by agents."""

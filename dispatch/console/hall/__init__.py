"""Console pages of the hall (issue 18): policy topics for supervisors, and what was asked of them."""

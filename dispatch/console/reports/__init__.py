"""Reports for supervisors: per site and week, as tables, charts and CSV."""

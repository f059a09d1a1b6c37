"""The floor: a live wallboard of the call center for supervisors and agents (/console/floor)."""

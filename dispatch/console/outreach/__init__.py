"""Console pages of outreach: create an event, choose its audience, see the count and cost, schedule."""

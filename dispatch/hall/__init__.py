"""The hall: the big screen, the public job list, outreach and policy answers (issue 18)."""

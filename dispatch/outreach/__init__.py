"""Outreach (issue 18, part 3): events and announcements texted to a chosen audience of workers, on a
schedule, within quiet hours and a weekly cap; `退订活动` stops them, `报名 7` signs up."""

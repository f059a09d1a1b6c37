"""The hall (issue 18): what the market shows the public and tells the people in its hall.

The big screen (`/screen`, `/screen/<site code>`) and the public job list for phones (`/jobs`, `/j/<code>`)
live in screen*.py, listing*.py and views.py: no sign-in, nothing that names or reaches a person but the
market itself (its number), safe to cache. Outreach and policy answers have modules of their own here.
"""

"""The live call center (issue 15): agents' presence, routing callers by the site tree, agents' calls.

presence.py  who is available, busy, wrapping up or away (and idle agents set away)
routing.py   which site's agents a caller waits for, overflow up the site tree, place in the queue
calls.py     answering the next caller, calling out, the end of a call and its outcome on a ticket
screen.py    the screen pop: who is on the line and what they have going on

Plain functions that take a session and `now`; they flush, never commit.
"""

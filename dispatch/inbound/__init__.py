"""What a text means: the inbound router.

An inbound SMS is stored by the SMS channel (dispatch/sms/webhooks.py), then handed here:
handling.py reads who sent it (context.py, one statement), and routes.py's table gives it to the first
handler that takes it. questions.py keeps the one question each number was last asked. This module
imports nothing, so the code that asks questions (matching, follow-ups) can import questions.py.
"""

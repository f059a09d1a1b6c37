"""Outbound calls: the call gateway (Twilio or a record-only outbox) and the follow-up call tasks."""

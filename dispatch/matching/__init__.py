"""Matching: candidates in SQL, ranking, offer waves, replies. No Flask imports here."""

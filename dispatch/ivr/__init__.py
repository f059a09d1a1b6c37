"""Phone intake: the voice menu (IVR) employers and workers call, with an agent or voicemail behind it."""

"""Experiment lab: seeded torch recipes run in their own process, streamed, diagnosed and plotted."""

"""Renderers: text for a terminal, Markdown for PR comments and job summaries, JSON for machines."""

"""The weekly report and the ClaimReview export.

``collect`` reads the database into plain records; ``data`` (pure) builds the
report from them; ``render`` turns it into Markdown, HTML, JSON or CSV;
``claimreview`` builds schema.org ClaimReview JSON-LD for final verdicts.
"""

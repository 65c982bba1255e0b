"""Alerts: messages to people when something needs them, sent without ever
holding up the work that caused them.

- ``messages`` (pure): what each event says, as the JSON a webhook receives and
  as the title and text an apprise service shows; the webhook signature; backoff;
- ``outbox``: queueing messages in the transaction that caused them (a sweep's
  digest of new evidence, a deadline near or passed, a feed failing, a verdict),
  and claiming and settling them for sending;
- ``send``: one delivery, to a signed webhook (httpx) or through apprise.

A message is queued once per thing it is about (its key), sent later by
``Desk.deliver_alerts`` (after a sweep, in ``watch``'s own job, or by
``pledgewatch alert send``), retried with backoff, and given up after a day of
failures; a sender that dies lets its messages go when its claim runs out.
"""

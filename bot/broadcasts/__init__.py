"""Staff broadcasts and alerts pushed to subscribers: records, delivery, the alerts poller, the notice."""

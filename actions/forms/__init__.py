"""Forms: the 311 report (`report_issue`, `submit_report`)."""

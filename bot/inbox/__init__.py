"""The review inbox: messages the assistant was unsure about, grouped for editors to turn into content."""

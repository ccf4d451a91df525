"""Desktop quantisation: prune the trained final CNN, convert it to full-integer int8, and gate on accuracy."""

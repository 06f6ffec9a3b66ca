"""The extract stage: score every chosen and rejected response with the configured value extractor."""

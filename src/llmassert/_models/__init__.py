"""Model clients: specs, endpoints, providers, retries, limits, prices."""

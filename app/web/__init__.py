"""HTTP: pages and JSON from the same service calls, SSE, security headers. No torch."""

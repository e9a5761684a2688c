"""The web process: pages, hashed static assets, health and catalogue endpoints, the WebSocket."""

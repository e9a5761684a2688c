"""The web layer: pages, hashed static assets, health and catalogue endpoints, the lesson
WebSocket, and the typed services and interfaces (`services`) that the app is built from."""

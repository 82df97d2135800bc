//! Streaming HTTP/1.1 and WebSocket forwarding to the app (being written).

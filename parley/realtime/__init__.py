"""Live delivery over WebSocket (docs/websocket.md), in layers of one concern each:

    consumer      ChatConsumer: transport only; authenticate, parse, call a command,
                  map errors to `error` frames (Channels' AsyncWebsocketConsumer)
    session       an authenticated socket: subscriptions, catch-up, live routing,
                  presence, token expiry
    delivery      cursors, dedupe, gap fill: plain Python behind a Port
    ephemeral     typing coalescing and presence dedupe: plain Python
    layer         the channel layer link (may be down at any moment), the inbox that
                  merges it with the client for Channels' dispatch loop, degraded polling
    backpressure  the per-socket command budget, slow readers
    protocol      close codes, the handshake's parameters, client frames
    legacy_wire   ?protocol=legacy: our frames translated at the last step (parley.legacy)
    commands      what each step does to the database: one thread hop each
    dbcalls       those hops, keeping their pooled connection
    upkeep        one task per process: presence heartbeats, resync after lost doorbells
    presence      who is online: socket counts in the shared cache

Nothing here writes or publishes a durable change: commands call parley.services,
which publish after commit (parley.events).
"""

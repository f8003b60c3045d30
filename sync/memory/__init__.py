"""In-memory storage for the sync core, and a simulated connection that drives it.

Tests use these to run the protocol under faults in milliseconds; each real adapter (the SQLite
store node, the PostgreSQL central) must behave the same way, so read them as the reference:

- ``sync.memory.store`` — the store node: ``MemoryStoreLog``, its event log (durable, gapless
  ``seq`` from 1, bytes kept exactly as appended; ``read`` answers a
  ``ClientSession.outbox_request()``), and ``MemoryHqSink``, the HQ events it applied and its
  ``hq_cursor`` (a batch is *begun* inside the local transaction, lost on a crash, then
  *committed*; applying an HQ event twice or out of cursor order is an error, so a test
  notices).
- ``sync.memory.central`` — ``MemoryCentral``, central's database: store events by
  ``(store_id, seq)``, each store's contiguous high-water mark, quarantine, the HQ log with its
  audiences, ``hq_acked`` per store. ``ingest`` is atomic: all of an ``IngestRequest`` becomes
  held, or none of it.
- ``sync.memory.connection`` — ``Connection``, one websocket between a store node and central
  with the glue both adapters do: frames are encoded on the way and each message handed to the
  sessions' ``receive_data`` (which decide what is refused); every storage operation is
  *started* and *completed* in separate steps, so a test can cut the connection or crash a
  side in between; central's side can *linger* after the store's side is gone, as it does
  until it notices the drop; ``pump`` runs a connection until nothing more happens.

What the adapters must do, as the ``Connection`` here does:

- hand each message to ``ServerSession.receive_data``/``ClientSession.receive_data`` as it came;
  when a session sets ``close_with``, send its frames and close; when an ``Error`` frame
  arrives, close;
- persist ``ServerSession.hq_acked`` when a ``Hello`` or an ``HqAck`` arrives (central's
  adapter asks ``ServerSession.hq_ack_to_save``);
- call ``ServerSession.hq_available()`` on every open session when HQ events were added;
- on the store, finish (or roll back) an HQ apply before saying ``Hello`` again, so a new
  session starts from the durable ``hq_cursor``.
"""

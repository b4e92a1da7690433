-- Every row an accepted quote writes in wangua, as raw SQL: lot lock, quote,
-- lot event, audit head lock and entry, lot update. Not the floor: a yardstick
-- for how much of the gap is SQL volume rather than Python.
\set lot random(1, :lots)
BEGIN;
SELECT quote_count, highest_fen, event_seq FROM bench_lots WHERE id = :lot FOR UPDATE \gset
SELECT id FROM bench_applications WHERE lot_id = :lot AND user_id = 1;
SELECT id FROM bench_timers WHERE lot_id = :lot AND fired_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT 1;
INSERT INTO bench_quotes (lot_id, seq, application_id, amount_fen, received_at)
  VALUES (:lot, :quote_count + 1, 1, CAST(:highest_fen AS bigint) + 100000000, now());
INSERT INTO bench_events (lot_id, seq, name, data, at)
  VALUES (:lot, :event_seq + 1, 'quote', '{"amount": "1.00", "bidder_number": "001"}', now());
SELECT seq AS audit_seq FROM bench_audit_heads WHERE stream = 'lot:' || :lot FOR UPDATE \gset
INSERT INTO bench_audit (stream, seq, at, action, input_digest, prev_hash, entry_hash)
  VALUES ('lot:' || :lot, :audit_seq + 1, now(), 'quote.accepted', md5(random()::text), md5(random()::text), md5(random()::text));
UPDATE bench_audit_heads SET seq = :audit_seq + 1, head_hash = md5(random()::text) WHERE stream = 'lot:' || :lot;
UPDATE bench_lots SET quote_count = :quote_count + 1, highest_fen = CAST(:highest_fen AS bigint) + 100000000,
  leader_application_id = 1, event_seq = :event_seq + 1 WHERE id = :lot;
END;

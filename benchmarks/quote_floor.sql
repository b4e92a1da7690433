-- The raw-SQL floor of one accepted quote: lock the lot row, insert the quote,
-- update the lot. :lots is set with -D lots=N; one lot is the hot-lot case.
\set lot random(1, :lots)
BEGIN;
SELECT quote_count, highest_fen FROM bench_lots WHERE id = :lot FOR UPDATE \gset
INSERT INTO bench_quotes (lot_id, seq, application_id, amount_fen, received_at)
  VALUES (:lot, :quote_count + 1, 1, CAST(:highest_fen AS bigint) + 100000000, now());
UPDATE bench_lots SET quote_count = :quote_count + 1, highest_fen = CAST(:highest_fen AS bigint) + 100000000,
  leader_application_id = 1 WHERE id = :lot;
END;

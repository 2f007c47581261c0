-- Nothing changes on SQLite: its fold already reads the transaction log
-- from a cursor over seq (0015), which PostgreSQL's now does by
-- transaction (see PostgreSQL's 0017).
SELECT 1;

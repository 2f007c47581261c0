-- The claim reads only the messages waiting to be sent. In messages_claim,
-- status sat between the number and the order, so a claim for two statuses
-- read every waiting message of the number and sorted them to take the
-- first hundred (at 66,000 waiting, a third of a second on PostgreSQL), and
-- every status change moved the row's entry. This index holds only what a
-- claim can take, already in claim order; a row leaves it once, when it is
-- claimed. The status list is written as the same literal in the query so
-- that the planners use it.
DROP INDEX messages_claim;
CREATE INDEX messages_claimable ON messages (number_id, priority, next_attempt_at, id)
	WHERE status IN ('queued', 'rate_limited');

-- Claims whose holder died are found among the few messages in flight, not
-- by reading the whole table.
CREATE INDEX messages_in_flight ON messages (claimed_until) WHERE status = 'sending';

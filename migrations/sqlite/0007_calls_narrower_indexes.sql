-- Narrower, time-local indexes on calls: two thirds of the CDR ingest's time went into them.
--
-- The number filter's indexes are keyed by (start day, number) instead of (organisation,
-- number, start): keyed by number, every CDR of a batch landed on a random page of two large
-- indexes, so each batch rewrote most of their pages; keyed by day first, a day's calls fill a
-- small region, and CDRs arrive roughly in time order. The calls list names the days of its
-- range (`started_at / 86400000 IN (…)`): one probe per day and number.
--
-- Service ids are unique across organisations, so the service index needs no organisation
-- prefix either; every query still also filters on `org_id` (checked on the row).
DROP INDEX calls_by_from;
DROP INDEX calls_by_to;
DROP INDEX calls_by_service_start;
CREATE INDEX calls_by_service_start ON calls (service_id, started_at);
CREATE INDEX calls_by_day_from ON calls ((started_at / 86400000), from_number);
CREATE INDEX calls_by_day_to ON calls ((started_at / 86400000), to_number);

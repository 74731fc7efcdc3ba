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
--
-- The key columns compare bytewise (COLLATE "C", as SQLite does and as the ids' comment in
-- 0005 says): under a database's linguistic collation (en_US.UTF-8, even C.UTF-8) every index
-- comparison of an insert went through strcoll, about half of PostgreSQL's ingest time.
ALTER TABLE calls
    ALTER COLUMN org_id TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN service_id TYPE TEXT COLLATE "C",
    ALTER COLUMN from_number TYPE TEXT COLLATE "C",
    ALTER COLUMN to_number TYPE TEXT COLLATE "C";
--
-- No foreign keys on calls: PostgreSQL checked both for every inserted row (a lookup that
-- also locks the referenced row), a third of the insert's time. Calls are written only by
-- the ingest, which resolves service names to the organisation's own services and locks the
-- service row first (`raise_longest_call`), so a service cannot vanish under a batch. The
-- cascade on delete stays, as a trigger: deleting a service (or an organisation, which
-- cascades to its services) deletes its calls.
ALTER TABLE calls DROP CONSTRAINT calls_org_id_fkey, DROP CONSTRAINT calls_service_id_fkey;
CREATE FUNCTION delete_calls_of_service() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM calls WHERE service_id = OLD.id;
    RETURN OLD;
END
$$;
CREATE TRIGGER services_delete_calls AFTER DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION delete_calls_of_service();
DROP INDEX calls_by_from;
DROP INDEX calls_by_to;
DROP INDEX calls_by_service_start;
CREATE INDEX calls_by_service_start ON calls (service_id, started_at);
CREATE INDEX calls_by_day_from ON calls ((started_at / 86400000), from_number);
CREATE INDEX calls_by_day_to ON calls ((started_at / 86400000), to_number);

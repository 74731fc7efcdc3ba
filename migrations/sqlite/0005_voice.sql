-- Voice services: services and their health, emergency addresses, phone numbers, call records
-- (CDRs) with their hourly rollups, incidents and maintenance, porting orders.
-- Timestamps are UTC milliseconds since the Unix epoch; ids are UUID text unless said otherwise.

-- A customer's voice service: a SIP trunk, Teams Direct Routing or Operator Connect.
CREATE TABLE services (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind               TEXT NOT NULL CHECK (kind IN ('sip_trunk', 'teams_direct_routing', 'operator_connect')),
    -- CDRs name their service by this, so it is unique within the organisation.
    name               TEXT NOT NULL,
    -- ISO 3166-1 alpha-2.
    country            TEXT NOT NULL CHECK (length(country) = 2),
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('provisioning', 'active', 'suspended', 'decommissioned')),
    -- Concurrent calls the contract allows; peak channels are reported against it.
    channel_limit      INTEGER NOT NULL CHECK (channel_limit > 0),
    -- The customer's SBC (SIP trunk, Direct Routing); empty for Operator Connect.
    sbc_fqdn           TEXT,
    sbc_port           INTEGER CHECK (sbc_port BETWEEN 1 AND 65535),
    sbc_transport      TEXT CHECK (sbc_transport IN ('udp', 'tcp', 'tls')),
    -- The latest SIP OPTIONS probe: its result, when, and the round trip.
    health             TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'up', 'degraded', 'down')),
    health_checked_at  INTEGER,
    health_latency_ms  INTEGER,
    -- The longest call stored for the service: how far back a peak-channel recomputation must
    -- look for calls still in progress in an hour. Maintained by the CDR ingest, which also
    -- updates it first in each batch so that concurrent batches of one service serialise.
    longest_call_ms    INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

-- Probe results over time (the service page's health history).
CREATE TABLE service_health_checks (
    service_id  TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    checked_at  INTEGER NOT NULL,
    health      TEXT NOT NULL CHECK (health IN ('up', 'degraded', 'down')),
    -- NULL when the probe got no answer.
    latency_ms  INTEGER,
    -- What the probe saw, e.g. "SIP/2.0 503 Service Unavailable".
    detail      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (service_id, checked_at)
);

-- A civic address for emergency calls (where emergency services are sent).
CREATE TABLE emergency_addresses (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- The customer's own name for it, e.g. "London HQ, 3rd floor".
    label         TEXT NOT NULL,
    street        TEXT NOT NULL,
    house_number  TEXT NOT NULL DEFAULT '',
    postal_code   TEXT NOT NULL DEFAULT '',
    city          TEXT NOT NULL,
    -- State, province or county where the country needs it.
    region        TEXT NOT NULL DEFAULT '',
    country       TEXT NOT NULL CHECK (length(country) = 2),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX emergency_addresses_by_org ON emergency_addresses (org_id, label);

-- A phone number the customer holds (or is porting in or out).
CREATE TABLE numbers (
    -- E.164 with the leading +; a number belongs to one customer at a time.
    e164                  TEXT PRIMARY KEY NOT NULL,
    org_id                TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    number_type           TEXT NOT NULL CHECK (number_type IN ('geographic', 'national', 'toll_free', 'mobile')),
    country               TEXT NOT NULL CHECK (length(country) = 2),
    status                TEXT NOT NULL CHECK (status IN ('active', 'reserved', 'porting_in', 'porting_out', 'released')),
    service_id            TEXT REFERENCES services (id) ON DELETE SET NULL,
    -- Who or what answers it: a Teams user's UPN, a queue, a PBX extension.
    assignment            TEXT,
    -- Whether the number may place emergency calls; then it needs an address.
    emergency_calling     INTEGER NOT NULL DEFAULT 0 CHECK (emergency_calling IN (0, 1)),
    emergency_address_id  TEXT REFERENCES emergency_addresses (id),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    CHECK (emergency_calling = 0 OR emergency_address_id IS NOT NULL)
);
CREATE INDEX numbers_by_org ON numbers (org_id, e164);
CREATE INDEX numbers_by_service ON numbers (service_id);
CREATE INDEX numbers_by_address ON numbers (emergency_address_id);

-- Call detail records. The carrier's call id is unique per organisation (two customers may
-- send the same id); a row is never changed after ingest.
CREATE TABLE calls (
    org_id           TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- The carrier's call id (the idempotency key), compared bytewise.
    id               TEXT NOT NULL,
    service_id       TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    started_at       INTEGER NOT NULL,
    -- NULL unless the call was answered.
    answered_at      INTEGER,
    ended_at         INTEGER NOT NULL,
    direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_number      TEXT NOT NULL,
    to_number        TEXT NOT NULL,
    result           TEXT NOT NULL CHECK (result IN ('answered', 'busy', 'no_answer', 'failed', 'cancelled')),
    sip_code         INTEGER NOT NULL CHECK (sip_code BETWEEN 100 AND 699),
    sip_reason       TEXT NOT NULL DEFAULT '',
    -- Quality, NULL when unknown.
    mos              REAL CHECK (mos BETWEEN 1.0 AND 5.0),
    jitter_ms        REAL CHECK (jitter_ms >= 0),
    packet_loss_pct  REAL CHECK (packet_loss_pct BETWEEN 0 AND 100),
    -- ISO 3166-1 alpha-2 of the far end.
    country          TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    CHECK (started_at <= ended_at),
    CHECK ((result = 'answered') = (answered_at IS NOT NULL)),
    CHECK (answered_at IS NULL OR (answered_at >= started_at AND answered_at <= ended_at))
);
-- The calls list: newest first by (start, id), keyset-paginated.
CREATE INDEX calls_by_org_start ON calls (org_id, started_at, id);
-- The service filter, and the peak-channel recomputation of the ingest.
CREATE INDEX calls_by_service_start ON calls (org_id, service_id, started_at);
-- The number filter (equals from or to).
CREATE INDEX calls_by_from ON calls (org_id, from_number, started_at);
CREATE INDEX calls_by_to ON calls (org_id, to_number, started_at);

-- Hourly rollup per organisation, service and UTC hour, maintained by the ingest in the same
-- transaction as the calls, so dashboards never scan raw CDRs. Counters count calls by the
-- hour of their start; peak_channels is the largest number of the service's calls in progress
-- at one instant of the hour (a call being in progress on [start, end)), so a row may exist
-- with calls = 0 for an hour that a longer call only spans.
CREATE TABLE call_hourly_by_service (
    org_id         TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    service_id     TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    -- Start of the UTC hour.
    hour_at        INTEGER NOT NULL,
    calls          INTEGER NOT NULL DEFAULT 0,
    answered       INTEGER NOT NULL DEFAULT 0,
    busy           INTEGER NOT NULL DEFAULT 0,
    no_answer      INTEGER NOT NULL DEFAULT 0,
    failed         INTEGER NOT NULL DEFAULT 0,
    cancelled      INTEGER NOT NULL DEFAULT 0,
    -- Σ (end − answer) over answered calls, in ms (minutes and ACD derive from it).
    answered_ms    INTEGER NOT NULL DEFAULT 0,
    -- Average MOS = mos_sum ÷ mos_count over calls with a MOS.
    mos_sum        REAL NOT NULL DEFAULT 0,
    mos_count      INTEGER NOT NULL DEFAULT 0,
    peak_channels  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, service_id, hour_at)
);
CREATE INDEX call_hourly_by_service_time ON call_hourly_by_service (org_id, hour_at);

-- The same counters per organisation, far-end country and UTC hour (no peak: there is no
-- per-country peak).
CREATE TABLE call_hourly_by_country (
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    country      TEXT NOT NULL,
    hour_at      INTEGER NOT NULL,
    calls        INTEGER NOT NULL DEFAULT 0,
    answered     INTEGER NOT NULL DEFAULT 0,
    busy         INTEGER NOT NULL DEFAULT 0,
    no_answer    INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    cancelled    INTEGER NOT NULL DEFAULT 0,
    answered_ms  INTEGER NOT NULL DEFAULT 0,
    mos_sum      REAL NOT NULL DEFAULT 0,
    mos_count    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, country, hour_at)
);
CREATE INDEX call_hourly_by_country_time ON call_hourly_by_country (org_id, hour_at);

-- Incidents and planned maintenance published by the carrier: global, or for one service,
-- or for one country (seen by customers with services or numbers there).
CREATE TABLE incidents (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('incident', 'maintenance')),
    scope       TEXT NOT NULL CHECK (scope IN ('global', 'service', 'country')),
    service_id  TEXT REFERENCES services (id) ON DELETE CASCADE,
    country     TEXT,
    title       TEXT NOT NULL,
    -- Incidents: investigating → identified → monitoring → resolved;
    -- maintenance: scheduled → in_progress → completed (or cancelled).
    status      TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved', 'scheduled', 'in_progress', 'completed', 'cancelled')),
    starts_at   INTEGER NOT NULL,
    -- NULL while open-ended.
    ends_at     INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((scope = 'global' AND service_id IS NULL AND country IS NULL)
        OR (scope = 'service' AND service_id IS NOT NULL AND country IS NULL)
        OR (scope = 'country' AND service_id IS NULL AND country IS NOT NULL)),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE INDEX incidents_by_time ON incidents (starts_at);
CREATE INDEX incidents_by_service ON incidents (service_id);

-- The public timeline of an incident or maintenance.
CREATE TABLE incident_updates (
    id           TEXT PRIMARY KEY NOT NULL,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    posted_at    INTEGER NOT NULL,
    -- The incident's status as of this update.
    status       TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, posted_at);

-- A request to move numbers from another carrier (the losing carrier) to us.
CREATE TABLE port_orders (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    losing_carrier  TEXT NOT NULL,
    -- The date the customer asked for (UTC midnight, ms).
    requested_for   INTEGER NOT NULL,
    -- The firm order commitment date the losing carrier confirmed.
    foc_at          INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'confirmed', 'completed', 'rejected', 'cancelled')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX port_orders_by_org ON port_orders (org_id, created_at);

-- The numbers a porting order moves.
CREATE TABLE port_order_numbers (
    port_order_id  TEXT NOT NULL REFERENCES port_orders (id) ON DELETE CASCADE,
    e164           TEXT NOT NULL,
    PRIMARY KEY (port_order_id, e164)
);
CREATE INDEX port_order_numbers_by_number ON port_order_numbers (e164);

-- Every status a porting order went through, with who or what moved it and why.
CREATE TABLE port_order_events (
    id             TEXT PRIMARY KEY NOT NULL,
    port_order_id  TEXT NOT NULL REFERENCES port_orders (id) ON DELETE CASCADE,
    at             INTEGER NOT NULL,
    status         TEXT NOT NULL,
    -- E.g. the losing carrier's rejection reason.
    note           TEXT NOT NULL DEFAULT '',
    actor_label    TEXT NOT NULL
);
CREATE INDEX port_order_events_by_order ON port_order_events (port_order_id, at);

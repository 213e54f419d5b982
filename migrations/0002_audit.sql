-- Audit store: every validation decision, append-only. Records are range
-- partitioned by month on create_time; the server creates partitions ahead of
-- time and the default partition catches anything outside them.

create table audit_record (
    id                 uuid        not null,
    create_time        timestamptz not null,
    -- unary ValidateClaim: the caller's idempotency key
    request_id         text,
    -- batch items: the batch and the item's sequence
    batch_id           uuid,
    sequence           bigint,
    submitter          text        not null,
    claim_id           text        not null,
    payer_id           text        not null,
    date_of_service    date,
    -- HMAC-SHA256 of the member id under the server secret; the raw id is never stored
    member_hash        bytea,
    rendering_npi      text,
    -- 1 accept, 2 accept with warnings, 3 reject (claimscrub.v1.Disposition)
    disposition        smallint    not null check (disposition in (1, 2, 3)),
    ruleset_version    text        not null,
    code_set_versions  jsonb       not null,
    -- canonical claim without the member id
    claim              jsonb       not null,
    findings           jsonb       not null,
    -- denormalised for the filters
    rule_ids           text[]      not null default '{}',
    procedure_codes    text[]      not null default '{}',
    diagnosis_codes    text[]      not null default '{}',
    processing_micros  bigint      not null,
    primary key (create_time, id)
) partition by range (create_time);

create table audit_record_default partition of audit_record default;

create index audit_record_id_idx on audit_record (id);
create index audit_record_claim_idx on audit_record (claim_id, create_time desc);
create index audit_record_batch_idx on audit_record (batch_id, sequence) where batch_id is not null;
create index audit_record_submitter_idx on audit_record (submitter, create_time desc, id desc);
create index audit_record_payer_idx on audit_record (payer_id, create_time desc, id desc);
create index audit_record_disposition_idx on audit_record (disposition, create_time desc, id desc);
create index audit_record_time_idx on audit_record (create_time desc, id desc);
create index audit_record_rule_idx on audit_record using gin (rule_ids);
create index audit_record_procedure_idx on audit_record using gin (procedure_codes);
create index audit_record_diagnosis_idx on audit_record using gin (diagnosis_codes);
-- history edits: earlier claims of the same member, provider and date
create index audit_record_history_idx on audit_record (member_hash, date_of_service) where member_hash is not null;

-- Idempotency of unary calls: one decision per request id. Kept outside the
-- partitioned table, whose unique keys would have to include create_time.
create table audit_request (
    request_id      text primary key,
    -- sha256 of the canonical claim: the same id with another claim is refused
    claim_sha256    bytea       not null,
    audit_record_id uuid        not null,
    create_time     timestamptz not null
);

create table validation_batch (
    batch_id                 uuid primary key,
    submitter                text        not null,
    ruleset_version          text        not null,
    expected_item_count      bigint,
    state                    text        not null default 'open' check (state in ('open', 'completed')),
    items_received           bigint      not null default 0,
    accepted                 bigint      not null default 0,
    accepted_with_warnings   bigint      not null default 0,
    rejected                 bigint      not null default 0,
    item_errors              bigint      not null default 0,
    -- -1 before the first group commit
    durable_through_sequence bigint      not null default -1,
    create_time              timestamptz not null default now(),
    update_time              timestamptz not null default now(),
    complete_time            timestamptz
);

-- Exactly one stored result per (batch, sequence), whatever the retries.
create table batch_item (
    batch_id        uuid        not null references validation_batch (batch_id),
    sequence        bigint      not null,
    correlation_id  text        not null,
    -- null for an item error (then error holds the google.rpc.Status as JSON)
    audit_record_id uuid,
    disposition     smallint,
    error           jsonb,
    create_time     timestamptz not null,
    primary key (batch_id, sequence)
);

-- Append-only, enforced by the database: no UPDATE, DELETE or TRUNCATE of
-- decisions, whoever asks.
create function refuse_audit_change() returns trigger
language plpgsql as $$
begin
    raise exception 'audit store is append-only: % on % refused', tg_op, tg_table_name
        using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_record_append_only
    before update or delete on audit_record
    for each row execute function refuse_audit_change();
create trigger audit_record_no_truncate
    before truncate on audit_record
    for each statement execute function refuse_audit_change();
create trigger audit_record_default_no_truncate
    before truncate on audit_record_default
    for each statement execute function refuse_audit_change();

create trigger audit_request_append_only
    before update or delete on audit_request
    for each row execute function refuse_audit_change();
create trigger audit_request_no_truncate
    before truncate on audit_request
    for each statement execute function refuse_audit_change();

create trigger batch_item_append_only
    before update or delete on batch_item
    for each row execute function refuse_audit_change();
create trigger batch_item_no_truncate
    before truncate on batch_item
    for each statement execute function refuse_audit_change();

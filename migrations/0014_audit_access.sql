-- Who read the audit store (HIPAA §164.312(b) audit controls): every Get,
-- List, Export, Stats and Replay of audit records, with the caller, its
-- request id, the RPC, its parameters and how many records it returned.
-- Append-only like the decisions.
create table audit_access (
    id           uuid primary key,
    access_time  timestamptz not null default now(),
    submitter    text        not null,
    request_id   text        not null,
    method       text        not null,
    parameters   jsonb       not null,
    record_count bigint      not null check (record_count >= 0)
);
create index audit_access_time on audit_access (access_time desc, id desc);
create index audit_access_submitter on audit_access (submitter, access_time desc, id desc);

create trigger audit_access_append_only
    before update or delete on audit_access
    for each row execute function refuse_audit_change();
create trigger audit_access_no_truncate
    before truncate on audit_access
    for each statement execute function refuse_audit_change();

grant select, insert on audit_access to claimscrub_app;

-- Audit queries, monthly partitions and the application role.

-- Keyset paging is (create_time desc, id desc) under every filter; the time
-- index also carries what GetAuditStats groups by, so statistics over a
-- time range are index-only scans instead of reading whole records.
drop index audit_record_time_idx;
create index audit_record_time_idx on audit_record (create_time desc, id desc)
    include (disposition, payer_id, rule_ids);
drop index audit_record_claim_idx;
create index audit_record_claim_idx on audit_record (claim_id, create_time desc, id desc);
drop index audit_record_batch_idx;
create index audit_record_batch_idx on audit_record (batch_id, create_time desc, id desc)
    where batch_id is not null;

-- Monthly range partitions, created ahead of time by the server. A month
-- that already has rows in the default partition stays there: moving them
-- would mean deleting from an append-only table.
create function claimscrub_create_audit_partition(month date) returns text
language plpgsql as $$
declare
    first_day date := date_trunc('month', month)::date;
    lower_bound timestamptz := first_day::timestamp at time zone 'UTC';
    upper_bound timestamptz := (first_day + interval '1 month')::timestamp at time zone 'UTC';
    partition_name text := format('audit_record_%s', to_char(first_day, 'YYYY_MM'));
begin
    if to_regclass(partition_name) is not null then
        return null;
    end if;
    if exists (select 1 from audit_record_default
                where create_time >= lower_bound and create_time < upper_bound) then
        return null;
    end if;
    execute format('create table %I partition of audit_record for values from (%L) to (%L)',
                   partition_name, lower_bound, upper_bound);
    execute format('alter table %I alter column claim set compression lz4, '
                   'alter column findings set compression lz4, '
                   'alter column code_set_versions set compression lz4', partition_name);
    -- Row triggers are cloned from the parent; a statement trigger is not,
    -- and TRUNCATE of one partition would not fire the parent's.
    execute format('create trigger %I before truncate on %I '
                   'for each statement execute function refuse_audit_change()',
                   partition_name || '_no_truncate', partition_name);
    return partition_name;
exception
    -- Another server created it meanwhile.
    when duplicate_table or duplicate_object then
        return null;
end;
$$;

-- The application role: reads everything, appends decisions, updates only
-- a batch's progress row, and can never change or remove a decision. The
-- server's writers run as this role; operators can log in as it.
do $$
begin
    create role claimscrub_app nologin;
exception
    -- Roles are per cluster: another database (or a concurrent migration)
    -- created it first.
    when duplicate_object or unique_violation then
        null;
end;
$$;
grant usage on schema public to claimscrub_app;
grant select on all tables in schema public to claimscrub_app;
grant insert on audit_record, audit_request, batch_item, validation_batch to claimscrub_app;
grant update on validation_batch to claimscrub_app;
revoke update, delete, truncate on audit_record, audit_record_default, audit_request, batch_item
    from public, claimscrub_app;

-- The rule, procedure and diagnosis filters read a narrow search table
-- instead of GIN indexes on audit_record's arrays. A GIN index answers
-- "which records contain X" but not "the newest 100 of them": every match
-- was fetched and sorted, so a page's cost grew with the number of matches
-- (p99 25-35 ms at 1M records). One btree over (kind, term, time, id) walks
-- the newest matches in order and stops at the page, at any table size.
-- The three GIN indexes were also the dearest part of each insert.
--
-- A record's terms are written by the same transaction as the record
-- (storage::audit::insert_records), deduplicated; the arrays stay on the
-- record for GetAuditStats and for a second term filter on one page.
create table audit_term (
    -- 1 rule id, 2 procedure code, 3 diagnosis code
    kind        smallint    not null check (kind in (1, 2, 3)),
    term        text        not null,
    create_time timestamptz not null,
    record_id   uuid        not null
) partition by range (create_time);

create table audit_term_default partition of audit_term default;

create index audit_term_idx on audit_term (kind, term, create_time desc, record_id desc);

create trigger audit_term_append_only
    before update or delete on audit_term
    for each row execute function refuse_audit_change();
create trigger audit_term_no_truncate
    before truncate on audit_term
    for each statement execute function refuse_audit_change();
create trigger audit_term_default_no_truncate
    before truncate on audit_term_default
    for each statement execute function refuse_audit_change();

grant insert on audit_term to claimscrub_app;
grant select on audit_term, audit_term_default to claimscrub_app;
revoke update, delete, truncate on audit_term, audit_term_default from public, claimscrub_app;

-- One month's partition of an audit table (audit_record or audit_term),
-- unless it exists or the month already has rows in the table's default
-- partition (moving them would mean deleting audit rows). Returns whether
-- it made one.
create function claimscrub_create_month_partition(parent text, first_day date) returns boolean
language plpgsql as $$
declare
    lower_bound timestamptz := first_day::timestamp at time zone 'UTC';
    upper_bound timestamptz := (first_day + interval '1 month')::timestamp at time zone 'UTC';
    partition_name text := format('%s_%s', parent, to_char(first_day, 'YYYY_MM'));
    taken boolean;
begin
    if to_regclass(partition_name) is not null then
        return false;
    end if;
    execute format('select exists (select 1 from %I where create_time >= $1 and create_time < $2)',
                   parent || '_default')
        into taken using lower_bound, upper_bound;
    if taken then
        return false;
    end if;
    execute format('create table %I partition of %I for values from (%L) to (%L)',
                   partition_name, parent, lower_bound, upper_bound);
    -- Row triggers are cloned from the parent; a statement trigger is not,
    -- and TRUNCATE of one partition would not fire the parent's.
    execute format('create trigger %I before truncate on %I '
                   'for each statement execute function refuse_audit_change()',
                   partition_name || '_no_truncate', partition_name);
    return true;
end;
$$;

-- A month's term partition is made with its record partition.
create or replace function claimscrub_create_audit_partition(month date) returns text
language plpgsql as $$
declare
    first_day date := date_trunc('month', month)::date;
    partition_name text := format('audit_record_%s', to_char(first_day, 'YYYY_MM'));
    created text;
begin
    if claimscrub_create_month_partition('audit_record', first_day) then
        execute format('alter table %I alter column claim set compression lz4, '
                       'alter column findings set compression lz4, '
                       'alter column code_set_versions set compression lz4, '
                       'alter column not_checked set compression lz4', partition_name);
        created := partition_name;
    end if;
    perform claimscrub_create_month_partition('audit_term', first_day);
    return created;
exception
    -- Another server created it meanwhile.
    when duplicate_table or duplicate_object then
        return null;
end;
$$;

-- The search terms of a record's lists, each once: what the audit writer
-- stores (storage::audit::insert_terms), for the backfill below and for
-- bulk fills outside the server.
create function claimscrub_audit_terms(rule_ids text[], procedure_codes text[], diagnosis_codes text[])
returns table (kind smallint, term text)
language sql immutable as $$
    select distinct t.kind, t.term
      from (select 1::smallint, unnest(rule_ids)
            union all
            select 2::smallint, unnest(procedure_codes)
            union all
            select 3::smallint, unnest(diagnosis_codes)) as t(kind, term)
$$;

-- The months that have record partitions get their term partitions, then
-- every stored record's terms are written.
do $$
declare
    month date;
begin
    for month in
        select to_date(substr(inhrelid::regclass::text, length('audit_record_') + 1), 'YYYY_MM')
          from pg_inherits
         where inhparent = 'audit_record'::regclass
           and inhrelid::regclass::text ~ '^audit_record_[0-9]{4}_[0-9]{2}$'
    loop
        perform claimscrub_create_audit_partition(month);
    end loop;
end;
$$;

insert into audit_term (kind, term, create_time, record_id)
select t.kind, t.term, r.create_time, r.id
  from audit_record r
 cross join lateral claimscrub_audit_terms(r.rule_ids, r.procedure_codes, r.diagnosis_codes) as t;

drop index audit_record_rule_idx;
drop index audit_record_procedure_idx;
drop index audit_record_diagnosis_idx;

-- Planner statistics for the backfilled rows, so the first pages already
-- walk the index in order.
analyze audit_term;

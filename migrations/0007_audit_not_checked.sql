-- The edits that could not run on a claim, and why (no release in effect,
-- no row for the code, a field the claim does not carry), kept beside the
-- findings so a stored decision says what it did not check. Records stored
-- before this column existed read as having listed nothing.
alter table audit_record
    add column not_checked json not null default '[]';

do $$
declare
    part regclass;
begin
    for part in
        select 'audit_record'::regclass
        union all
        select inhrelid::regclass from pg_inherits where inhparent = 'audit_record'::regclass
    loop
        execute format('alter table %s alter column not_checked set compression lz4', part);
    end loop;
end;
$$;

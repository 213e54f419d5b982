-- The claim, findings and code-set versions of a decision are written once
-- and read back whole; nothing queries inside them (the filters have their
-- own columns). As json they are stored as written: no jsonb parse on every
-- insert and no jsonb-to-text rendering on every read, which were most of
-- PostgreSQL's CPU in group commits and exports.
alter table audit_record
    alter column claim type json using claim::json,
    alter column findings type json using findings::json,
    alter column code_set_versions type json using code_set_versions::json;

-- A type change resets the column's compression: lz4 again, on the parent
-- (new partitions copy it) and on every partition made so far.
do $$
declare
    part regclass;
begin
    for part in
        select 'audit_record'::regclass
        union all
        select inhrelid::regclass from pg_inherits where inhparent = 'audit_record'::regclass
    loop
        execute format('alter table %s alter column claim set compression lz4, '
                       'alter column findings set compression lz4, '
                       'alter column code_set_versions set compression lz4', part);
    end loop;
end;
$$;

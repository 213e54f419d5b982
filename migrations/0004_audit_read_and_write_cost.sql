-- The history edits read only accepted decisions (ACCEPT, ACCEPT_WITH_WARNINGS):
-- a partial index skips the rejected ones instead of fetching and filtering
-- them, which for a member with many rejected resubmissions was most of the
-- cost of every lookup.
drop index audit_record_history_idx;
create index audit_record_history_idx on audit_record (member_hash, date_of_service)
    where member_hash is not null and disposition in (1, 2);

-- The canonical claim and the findings usually push a record past the TOAST
-- threshold; lz4 compresses them at a fraction of pglz's CPU cost (PostgreSQL
-- 14+ built with lz4, as the PGDG and Docker builds are).
alter table audit_record
    alter column claim set compression lz4,
    alter column findings set compression lz4,
    alter column code_set_versions set compression lz4;
alter table audit_record_default
    alter column claim set compression lz4,
    alter column findings set compression lz4,
    alter column code_set_versions set compression lz4;

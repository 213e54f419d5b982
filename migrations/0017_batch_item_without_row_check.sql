-- A batch item's reference to its batch is kept by the write path and by
-- these triggers, instead of a foreign key checked row by row.
--
-- Every batch_item row is inserted by the transaction that has just moved
-- its batch's durable sequence (storage::batches::advance, a compare-and-set
-- UPDATE that must return the row), so that batch row exists and is locked
-- until the items commit. The foreign key checked it again for each item:
-- one lookup and one row lock per item, about 5 us of the 54 us of
-- PostgreSQL CPU a batch claim costs (BENCHMARKS.md, attempt 10).
--
-- What the key also prevented is refused below for everyone: removing a
-- batch whose items are stored, and changing a batch's id. A role that may
-- insert into batch_item directly (the server's role may) could now add an
-- item for a batch that does not exist; only the write path does so.
alter table batch_item drop constraint batch_item_batch_id_fkey;

create trigger validation_batch_no_delete
    before delete on validation_batch
    for each row execute function refuse_audit_change();
create trigger validation_batch_no_truncate
    before truncate on validation_batch
    for each statement execute function refuse_audit_change();
-- A batch's progress is updated on every chunk; only its id is fixed.
create trigger validation_batch_keeps_its_id
    before update of batch_id on validation_batch
    for each row when (old.batch_id is distinct from new.batch_id)
    execute function refuse_audit_change();

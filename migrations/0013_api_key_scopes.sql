-- API keys get scopes and an optional expiry. Keys made before scopes
-- existed could call everything; they keep all four scopes, so no caller
-- breaks on upgrade (revoke and re-create them with fewer). New keys name
-- their scopes.
alter table api_key
    add column scopes text[] not null default '{lookup,validate,audit:read,admin}',
    add column expire_time timestamptz;
alter table api_key alter column scopes drop default;
alter table api_key add constraint api_key_scopes_known
    check (scopes <@ array['lookup', 'validate', 'audit:read', 'admin'] and cardinality(scopes) > 0);

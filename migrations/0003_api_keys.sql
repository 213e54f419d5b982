-- API keys: a caller presents a key; claimscrub records its submitter on every
-- decision. Only a sha256 of the key is stored.
create table api_key (
    id          uuid primary key,
    submitter   text        not null,
    key_sha256  bytea       not null,
    create_time timestamptz not null default now(),
    revoke_time timestamptz,
    constraint api_key_sha256_key unique (key_sha256)
);

-- A caller may be a client certificate instead of a key: `api-key create
-- --cert-san NAME` registers a SAN (DNS name or URI) that a certificate
-- verified against the server's client CA must carry. It has a submitter,
-- scopes, an expiry and a revocation like a key, so one table, one list and
-- one revoke serve both. A row is exactly one of the two.
alter table api_key
    alter column key_sha256 drop not null,
    add column cert_san text,
    add constraint api_key_key_or_certificate
        check ((key_sha256 is null) <> (cert_san is null)),
    add constraint api_key_cert_san_length
        check (cert_san is null or length(cert_san) between 1 and 1000);
-- Two live registrations of one SAN would make the certificate's submitter
-- ambiguous; a revoked one may be registered again.
create unique index api_key_cert_san_live on api_key (cert_san) where revoke_time is null;

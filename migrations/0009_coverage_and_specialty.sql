-- Two more kinds of procedure knowledge in the default data set, kept with
-- its built-in CPT release like the attributes and site families:
-- - coverage_policy_entry: which pointed diagnoses show a medical
--   necessity indication for a procedure family, and which mark the
--   encounter as cosmetic (BENIGN_REMOVAL_NO_INDICATION);
-- - implausible_specialty: taxonomy groups that do not perform a service
--   type (SPECIALTY_IMPLAUSIBLE).
create table coverage_policy_entry (
    version_id       bigint not null references code_system_version (id),
    policy           text   not null,
    service_type     text   not null,
    lesion_behavior  text   not null default '',
    -- canonical ICD-10-CM prefix (no dot); the longest matching prefix wins
    diagnosis_prefix text   not null,
    evidence         text   not null check (evidence in ('indication', 'cosmetic')),
    note             text   not null default '',
    primary key (version_id, policy, diagnosis_prefix)
);

create table implausible_specialty (
    version_id      bigint not null references code_system_version (id),
    service_type    text   not null,
    -- NUCC taxonomy code prefix: 2084 is every Psychiatry & Neurology code
    taxonomy_prefix text   not null,
    classification  text   not null,
    note            text   not null default '',
    primary key (version_id, service_type, taxonomy_prefix)
);

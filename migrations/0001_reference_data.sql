-- Reference data: every release of every code system or reference table is a
-- row of code_system_version, resolved by date of service. Rows of a release
-- are never updated; a new release is a new version.

create table code_system_version (
    id               bigint generated always as identity primary key,
    -- cpt, hcpcs, icd10cm, modifier, taxonomy, pos, mpfs, ncci_ptp, mue
    system           text        not null,
    version          text        not null,
    -- the release answers for dates of service from effective_from; with no
    -- effective_to it stays in effect until a later release of its system.
    effective_from   date        not null,
    effective_to     date,
    -- true for claimscrub's own default data set; an official import of the
    -- same system takes precedence over it.
    builtin          boolean     not null default false,
    source_file_name text        not null,
    -- sha256 of the decompressed source: re-importing the same file is a no-op.
    sha256           text        not null,
    concept_count    bigint      not null default 0,
    billable_count   bigint,
    load_time        timestamptz not null default now(),
    constraint code_system_version_system_check check (system in
        ('cpt', 'hcpcs', 'icd10cm', 'modifier', 'taxonomy', 'pos', 'mpfs', 'ncci_ptp', 'mue')),
    constraint code_system_version_range_check check (effective_to is null or effective_to >= effective_from),
    constraint code_system_version_label_key unique (system, version),
    constraint code_system_version_source_key unique (system, sha256)
);

-- One concept of a code-system release. Codes are stored in canonical form
-- (ICD-10-CM without the dot, upper case).
create table concept (
    version_id       bigint  not null references code_system_version (id),
    code             text    not null,
    display          text    not null,
    long_description text,
    -- ICD-10-CM: false for headers (categories and subcategories).
    billable         boolean not null default true,
    parent_code      text,
    added_date       date,
    effective_date   date,
    termination_date date,
    -- kind-specific fields (NUCC grouping, HCPCS action code, ...)
    properties       jsonb   not null default '{}'::jsonb,
    primary key (version_id, code)
);

-- MPFS (PPRRVU) indicators per code and modifier row. Descriptors are AMA
-- text and are never stored.
create table mpfs_indicator (
    version_id  bigint not null references code_system_version (id),
    code        text   not null,
    -- '' for the global row, else 26, TC, 53, ...
    modifier    text   not null default '',
    status      text   not null,
    pctc        text   not null,
    global_days text   not null,
    mult_proc   text   not null,
    bilat       text   not null,
    asst        text   not null,
    co_surg     text   not null,
    team_surg   text   not null,
    work_rvu    double precision,
    primary key (version_id, code, modifier)
);

-- NCCI procedure-to-procedure edits (practitioner).
create table ncci_ptp_edit (
    version_id         bigint   not null references code_system_version (id),
    column1            text     not null,
    column2            text     not null,
    effective_date     date     not null,
    -- null: not deleted
    deletion_date      date,
    prior_to_1996      boolean  not null,
    -- 0 not allowed with any modifier, 1 allowed with an NCCI-associated modifier, 9 not applicable
    modifier_indicator smallint not null check (modifier_indicator in (0, 1, 9)),
    rationale          text     not null,
    primary key (version_id, column1, column2, effective_date)
);

-- NCCI medically unlikely edits (practitioner).
create table mue_limit (
    version_id bigint   not null references code_system_version (id),
    code       text     not null,
    mue_value  integer  not null check (mue_value >= 0),
    -- MUE adjudication indicator: 1 line edit, 2 date of service (policy), 3 date of service (clinical)
    mai        smallint not null check (mai in (1, 2, 3)),
    rationale  text     not null,
    primary key (version_id, code)
);

-- claimscrub's procedure knowledge (default data set): what no official file
-- carries, such as size bands and site families.
create table procedure_attribute (
    version_id             bigint  not null references code_system_version (id),
    code                   text    not null,
    service_type           text    not null,
    lesion_behavior        text,
    site_family            text,
    size_measure           text,
    size_lower_exclusive   numeric(6, 2),
    size_upper_inclusive   numeric(6, 2),
    typical_pos            text[]  not null default '{}',
    primary key (version_id, code)
);

create table site_family (
    version_id     bigint not null references code_system_version (id),
    site_family    text   not null,
    display        text   not null,
    anatomic_sites text[] not null,
    primary key (version_id, site_family)
);

-- Guidance shown on procedure profiles: related diagnoses, taxonomies,
-- modifiers and payer notes, per procedure family or code.
create table profile_link (
    version_id      bigint not null references code_system_version (id),
    procedure_scope text   not null,
    kind            text   not null check (kind in ('diagnosis', 'taxonomy', 'payer', 'modifier')),
    target          text   not null,
    relevance       text   not null default '',
    note            text   not null default '',
    ordinal         integer not null,
    primary key (version_id, procedure_scope, kind, target)
);

create table payer (
    payer_id   text primary key,
    name       text not null,
    payer_type text not null,
    notes      text not null default ''
);

-- Payer-specific rule behaviour, as data: enable or disable a rule, override
-- its severity, set its parameters, per effective date range.
create table payer_rule_setting (
    payer_id       text    not null references payer (payer_id),
    rule_id        text    not null,
    effective_from date    not null,
    effective_to   date,
    enabled        boolean not null default true,
    severity       text check (severity in ('error', 'warning', 'info')),
    parameters     jsonb   not null default '{}'::jsonb,
    primary key (payer_id, rule_id, effective_from)
);

-- A running server reloads its catalog when an import in another process
-- announces a new release.
create function notify_reference_data_changed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('claimscrub_reference_data', tg_table_name);
    return null;
end;
$$;

create trigger code_system_version_changed
    after insert or update or delete on code_system_version
    for each statement execute function notify_reference_data_changed();

create trigger payer_rule_setting_changed
    after insert or update or delete on payer_rule_setting
    for each statement execute function notify_reference_data_changed();

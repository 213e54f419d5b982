-- Two more code systems: the CMS Medicare Code Editor's diagnosis flags
-- (mce) and the NCCI add-on code edits (ncci_aoc), both stored as concepts.
alter table code_system_version drop constraint code_system_version_system_check;
alter table code_system_version add constraint code_system_version_system_check check (system in
    ('cpt', 'hcpcs', 'icd10cm', 'modifier', 'taxonomy', 'pos', 'mpfs', 'ncci_ptp', 'mue', 'mce', 'ncci_aoc'));

-- Built-in releases no longer answer for dates before their code set
-- existed (domain::default_data::builtin_effective_from): ICD-10-CM from
-- 2015-10-01, the built-in fee schedule (a PPRRVU 2023 snapshot) from
-- 2023-01-01, the rest from the HIPAA compliance date 2003-10-16. Rows
-- loaded before this change carried 2000-01-01.
update code_system_version
   set effective_from = case system
                            when 'icd10cm' then date '2015-10-01'
                            when 'mpfs' then date '2023-01-01'
                            else date '2003-10-16'
                        end
 where builtin;

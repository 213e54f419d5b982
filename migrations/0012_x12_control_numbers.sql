-- The control numbers of the acknowledgements claimscrub writes (999 and
-- 277CA: ISA13 and GS06), counted per submitter so each is unique for the
-- submitter that receives it, across replicas.
create table x12_control_number (
    submitter text primary key,
    last_value bigint not null check (last_value > 0)
);
grant select, insert, update on x12_control_number to claimscrub_app;

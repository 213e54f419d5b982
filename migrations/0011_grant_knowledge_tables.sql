-- The application role reads every table (0005 granted select on the tables
-- that existed then); the knowledge tables of 0009 came later.
grant select on coverage_policy_entry, implausible_specialty to claimscrub_app;

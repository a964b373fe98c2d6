-- A run's members keyed stage, index in the group, group, as on SQLite: the members a step of a
-- stage changes (the k-th of each group finishing, the (k+1)-th starting) sit next to each
-- other in the key's index, and a run reads back in that order.
ALTER TABLE run_members DROP CONSTRAINT run_members_pkey;
ALTER TABLE run_members ADD PRIMARY KEY (fleet, run, stage, idx, grp);

-- Operations were indexed by start for one reader, the simulator's load at start-up, which keys
-- them by id and needs no order. The index cost each step of a wide run four more pages written
-- (of about 118), copied again at the next checkpoint.
DROP INDEX sim_operations_by_start;

-- Every run gets a uid, unique for all time: operation ids are built from it instead of the
-- run's name, so a run created again under a deleted run's name, or a namesake in another
-- fleet, is never answered for another run's upgrade.
ALTER TABLE runs ADD COLUMN uid TEXT NOT NULL DEFAULT '';

UPDATE runs SET uid = 'legacy-' || lower(hex(randomblob(16)));

-- A run that already started upgrades keeps its name as uid: its operations were started under
-- `{name}/{member}/{attempt}` and must still be found after Drydock is upgraded. (Of namesakes
-- in several fleets only the oldest can; the others already shared its operations.)
UPDATE runs SET uid = name
WHERE EXISTS (SELECT 1 FROM run_members AS m
              WHERE m.fleet = runs.fleet AND m.run = runs.name
                AND json_extract(m.body, '$.attempts') > 0)
  AND NOT EXISTS (SELECT 1 FROM runs AS older
                  WHERE older.name = runs.name AND older.rowid < runs.rowid
                    AND EXISTS (SELECT 1 FROM run_members AS m
                                WHERE m.fleet = older.fleet AND m.run = older.name
                                  AND json_extract(m.body, '$.attempts') > 0));

CREATE UNIQUE INDEX runs_by_uid ON runs (uid);

-- A stamp of each fleet's members, changed (to a fresh random value) by every write to one of
-- them, in the same transaction. A server keeps the members it last read with the stamp it read
-- before them, and reads them again only when the stamp moved: the fleet overview of 100,000
-- members no longer reads and decodes every row on every look. Triggers, so no write path (nor
-- another replica on the same database, nor a future one) can forget it.
ALTER TABLE fleets ADD COLUMN members_stamp TEXT NOT NULL DEFAULT '';

CREATE TRIGGER members_stamp_on_insert AFTER INSERT ON members
BEGIN
    UPDATE fleets SET members_stamp = hex(randomblob(16)) WHERE name = NEW.fleet;
END;

CREATE TRIGGER members_stamp_on_update AFTER UPDATE ON members
BEGIN
    UPDATE fleets SET members_stamp = hex(randomblob(16)) WHERE name IN (OLD.fleet, NEW.fleet);
END;

CREATE TRIGGER members_stamp_on_delete AFTER DELETE ON members
BEGIN
    UPDATE fleets SET members_stamp = hex(randomblob(16)) WHERE name = OLD.fleet;
END;

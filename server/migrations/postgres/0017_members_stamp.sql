-- A stamp of each fleet's members, changed (to a fresh random value) by every write to one of
-- them, in the same transaction. A server keeps the members it last read with the stamp it read
-- before them, and reads them again only when the stamp moved: the fleet overview of 100,000
-- members no longer reads and decodes every row on every look. A trigger, so no write path (nor
-- another replica on the same database, nor a future one) can forget it.
ALTER TABLE fleets ADD COLUMN members_stamp TEXT NOT NULL DEFAULT '';

CREATE FUNCTION members_stamp_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE fleets SET members_stamp = gen_random_uuid()::text WHERE name = NEW.fleet;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE fleets SET members_stamp = gen_random_uuid()::text WHERE name = OLD.fleet;
    ELSE
        UPDATE fleets SET members_stamp = gen_random_uuid()::text
            WHERE name = OLD.fleet OR name = NEW.fleet;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER members_stamp AFTER INSERT OR UPDATE OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION members_stamp_moves();

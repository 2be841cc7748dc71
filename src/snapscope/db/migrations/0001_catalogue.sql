-- snapscope catalogue, part 1: provenance and the L2 image table.
-- Same tables, columns and meanings as snappl (provenance, provenance_upstream, provenance_tag,
-- l2image), with these deliberate differences:
--   * corners, exptime and position_angle are double precision (snappl: real, ~0.04" rounding);
--   * width/height are integer (a 20k x 20k mosaic does not fit a smallint);
--   * band, mjd and exptime may be NULL: headers of plain FITS files often lack them, and the
--     Image API reports unknown values as None;
--   * l2image.provenance_id -> provenance(id) is enforced by statement-level triggers instead of
--     a FOREIGN KEY: a foreign key checks (and share-locks) the provenance row once per inserted
--     row, which measured 55 us/row, three quarters of a bulk COPY; the triggers check the
--     distinct provenance ids of the whole statement once, with the same guarantees (RESTRICT
--     on delete, key-share lock against a concurrent delete, SQLSTATE 23503 on violation);
--   * few btree indexes, because each one costs ingest speed (measured: the mjd, observation_id
--     and provenance_id indexes together halve COPY throughput): filepath (unique) and
--     (provenance_id, observation_id) for collection look-ups; position searches use the
--     spatial index of 0002 (not per-corner indexes), and other filters are applied to its
--     candidates.

CREATE TABLE provenance (
    id uuid PRIMARY KEY,
    environment integer,
    env_major integer,
    env_minor integer,
    process text NOT NULL,
    major integer NOT NULL,
    minor integer NOT NULL,
    params jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE provenance_upstream (
    downstream_id uuid NOT NULL REFERENCES provenance(id) ON DELETE CASCADE,
    upstream_id uuid NOT NULL REFERENCES provenance(id) ON DELETE RESTRICT,
    PRIMARY KEY (downstream_id, upstream_id)
);
CREATE INDEX provenance_upstream_upstream_idx ON provenance_upstream (upstream_id);

CREATE TABLE provenance_tag (
    tag text NOT NULL,
    process text NOT NULL,
    provenance_id uuid NOT NULL REFERENCES provenance(id) ON DELETE RESTRICT,
    PRIMARY KEY (tag, process)
);
CREATE INDEX provenance_tag_provenance_idx ON provenance_tag (provenance_id);

CREATE TABLE l2image (
    id uuid PRIMARY KEY,
    provenance_id uuid NOT NULL,  -- references provenance(id): see the triggers below
    observation_id text,
    sca integer,
    band text,
    ra double precision NOT NULL,
    dec double precision NOT NULL,
    ra_corner_00 double precision NOT NULL,
    ra_corner_01 double precision NOT NULL,
    ra_corner_10 double precision NOT NULL,
    ra_corner_11 double precision NOT NULL,
    dec_corner_00 double precision NOT NULL,
    dec_corner_01 double precision NOT NULL,
    dec_corner_10 double precision NOT NULL,
    dec_corner_11 double precision NOT NULL,
    filepath text NOT NULL UNIQUE,
    extension text[],
    width integer,
    height integer,
    format smallint NOT NULL DEFAULT 0,
    mjd double precision,
    exptime double precision,
    properties jsonb DEFAULT '{}',
    position_angle double precision
);
COMMENT ON COLUMN l2image.format IS 'Image._format_def key: 0 unknown, 1/2 OU2024 FITS, 10 FITSImage, 11 FITSImageStdHeaders, 100/101 Roman datamodel';
CREATE INDEX l2image_provenance_observation_idx ON l2image (provenance_id, observation_id);

CREATE FUNCTION snapscope_l2image_provenance_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT n.provenance_id INTO missing
      FROM (SELECT DISTINCT provenance_id FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM provenance p WHERE p.id = n.provenance_id)
     LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = 'insert or update on table "l2image" violates its provenance reference',
            DETAIL = format('Key (provenance_id)=(%s) is not present in table "provenance".', missing);
    END IF;
    -- as a foreign key would: keep these provenances from being deleted until we commit
    PERFORM 1 FROM provenance p
      WHERE p.id IN (SELECT DISTINCT provenance_id FROM new_rows) FOR KEY SHARE;
    RETURN NULL;
END
$$;

CREATE TRIGGER l2image_provenance_insert AFTER INSERT ON l2image
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION snapscope_l2image_provenance_check();
CREATE TRIGGER l2image_provenance_update AFTER UPDATE ON l2image
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION snapscope_l2image_provenance_check();

CREATE FUNCTION snapscope_provenance_in_use_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    used uuid;
BEGIN
    SELECT o.id INTO used FROM old_rows o
     WHERE EXISTS (SELECT 1 FROM l2image i WHERE i.provenance_id = o.id)
       AND NOT EXISTS (SELECT 1 FROM provenance p WHERE p.id = o.id)
     LIMIT 1;
    IF used IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = 'update or delete on table "provenance" violates the reference from "l2image"',
            DETAIL = format('Key (id)=(%s) is still referenced from table "l2image".', used);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER provenance_in_use_delete AFTER DELETE ON provenance
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION snapscope_provenance_in_use_check();
CREATE TRIGGER provenance_in_use_update AFTER UPDATE ON provenance
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION snapscope_provenance_in_use_check();

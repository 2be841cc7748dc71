-- snapscope catalogue, part 2: extension-free exact spatial search (see snapscope/db/_spatial.py).
-- cells: keys of the cube-pixelisation cells covering the footprint (GIN-indexed); the functions
-- below are the exact tests on unit vectors, inlined by the planner (LANGUAGE sql, IMMUTABLE).
-- Footprint polygon order is snappl's: corner 00 -> 01 -> 11 -> 10, either orientation.

-- cap_*: the footprint's bounding cap (unit vector of its corners' mean, cosine of its radius):
-- a three-multiplication test that drops most index candidates before the exact (trigonometric)
-- test runs on the few that remain.
ALTER TABLE l2image ADD COLUMN cells bigint[] NOT NULL CHECK (cardinality(cells) > 0),
                    ADD COLUMN cap_x double precision NOT NULL,
                    ADD COLUMN cap_y double precision NOT NULL,
                    ADD COLUMN cap_z double precision NOT NULL,
                    ADD COLUMN cap_cos double precision NOT NULL,
-- e<k>: inward normals of the four edges (00->01, 01->11, 11->10, 10->00), v_k x v_k+1 oriented
-- so that the interior is where all four p . e_k >= 0: the exact containment test of a point
-- becomes 12 multiplications (no trigonometry, and a tiny expression for the planner).
                    ADD COLUMN e0x double precision NOT NULL, ADD COLUMN e0y double precision NOT NULL,
                    ADD COLUMN e0z double precision NOT NULL, ADD COLUMN e1x double precision NOT NULL,
                    ADD COLUMN e1y double precision NOT NULL, ADD COLUMN e1z double precision NOT NULL,
                    ADD COLUMN e2x double precision NOT NULL, ADD COLUMN e2y double precision NOT NULL,
                    ADD COLUMN e2z double precision NOT NULL, ADD COLUMN e3x double precision NOT NULL,
                    ADD COLUMN e3y double precision NOT NULL, ADD COLUMN e3z double precision NOT NULL;
-- a small pending list: readers scan it linearly while a bulk load is in progress; bulk writers
-- merge it right after each COPY (gin_clean_pending_list), so queries stay sub-millisecond.
CREATE INDEX l2image_cells_idx ON l2image USING gin (cells) WITH (gin_pending_list_limit = 512);

-- p . v, v the unit vector of (ra, dec) in degrees, p = (x, y, z)
CREATE FUNCTION snapscope_dot(double precision, double precision,
                              double precision, double precision, double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT cosd($2) * (cosd($1) * $3 + sind($1) * $4) + sind($2) * $5
$$;

-- a . b for two positions in degrees
CREATE FUNCTION snapscope_dot2(double precision, double precision,
                               double precision, double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sind($2) * sind($4) + cosd($2) * cosd($4) * cosd($1 - $3)
$$;

-- p . (a x b): > 0 when p is left of the great circle a -> b
CREATE FUNCTION snapscope_det(double precision, double precision, double precision, double precision,
                              double precision, double precision, double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT $5 * (cosd($2) * sind($1) * sind($4) - sind($2) * cosd($4) * sind($3))
         + $6 * (sind($2) * cosd($4) * cosd($3) - cosd($2) * cosd($1) * sind($4))
         + $7 * cosd($2) * cosd($4) * sind($3 - $1)
$$;

-- Is p = (x, y, z) inside (or on the edge of) the footprint?
CREATE FUNCTION snapscope_in_quad(x double precision, y double precision, z double precision,
                                  r00 double precision, d00 double precision,
                                  r01 double precision, d01 double precision,
                                  r11 double precision, d11 double precision,
                                  r10 double precision, d10 double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT snapscope_dot(r00, d00, x, y, z) + snapscope_dot(r11, d11, x, y, z) > 0
       AND ((snapscope_det(r00, d00, r01, d01, x, y, z) >= 0
             AND snapscope_det(r01, d01, r11, d11, x, y, z) >= 0
             AND snapscope_det(r11, d11, r10, d10, x, y, z) >= 0
             AND snapscope_det(r10, d10, r00, d00, x, y, z) >= 0)
         OR (snapscope_det(r00, d00, r01, d01, x, y, z) <= 0
             AND snapscope_det(r01, d01, r11, d11, x, y, z) <= 0
             AND snapscope_det(r11, d11, r10, d10, x, y, z) <= 0
             AND snapscope_det(r10, d10, r00, d00, x, y, z) <= 0))
$$;

-- Is the great-circle arc a -> b within angle r of p (sinr2 = sin(r)^2, r <= 90 deg), its ends excluded?
CREATE FUNCTION snapscope_arc_near(ra1 double precision, dec1 double precision,
                                   ra2 double precision, dec2 double precision,
                                   x double precision, y double precision, z double precision,
                                   sinr2 double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT snapscope_dot(ra1, dec1, x, y, z) + snapscope_dot(ra2, dec2, x, y, z) > 0
       AND snapscope_dot(ra2, dec2, x, y, z)
           - snapscope_dot2(ra1, dec1, ra2, dec2) * snapscope_dot(ra1, dec1, x, y, z) >= 0
       AND snapscope_dot(ra1, dec1, x, y, z)
           - snapscope_dot2(ra1, dec1, ra2, dec2) * snapscope_dot(ra2, dec2, x, y, z) >= 0
       AND snapscope_det(ra1, dec1, ra2, dec2, x, y, z) ^ 2
           <= sinr2 * (1 - snapscope_dot2(ra1, dec1, ra2, dec2) ^ 2)
$$;

-- Does the footprint intersect the circle of centre p and radius r (cosr = cos r, sinr2 = sin(r)^2)?
CREATE FUNCTION snapscope_cone_quad(x double precision, y double precision, z double precision,
                                    cosr double precision, sinr2 double precision,
                                    r00 double precision, d00 double precision,
                                    r01 double precision, d01 double precision,
                                    r11 double precision, d11 double precision,
                                    r10 double precision, d10 double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT snapscope_dot(r00, d00, x, y, z) >= cosr
        OR snapscope_dot(r01, d01, x, y, z) >= cosr
        OR snapscope_dot(r11, d11, x, y, z) >= cosr
        OR snapscope_dot(r10, d10, x, y, z) >= cosr
        OR snapscope_in_quad(x, y, z, r00, d00, r01, d01, r11, d11, r10, d10)
        OR snapscope_arc_near(r00, d00, r01, d01, x, y, z, sinr2)
        OR snapscope_arc_near(r01, d01, r11, d11, x, y, z, sinr2)
        OR snapscope_arc_near(r11, d11, r10, d10, x, y, z, sinr2)
        OR snapscope_arc_near(r10, d10, r00, d00, x, y, z, sinr2)
$$;

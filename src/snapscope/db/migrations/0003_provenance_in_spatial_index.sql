-- snapscope catalogue, part 3: the spatial index also knows each row's provenance.
-- A position search for one provenance used to take every footprint at that position from the
-- GIN index (all provenances) and drop the others on the heap; worse, the planner ANDed the
-- search with the (provenance_id, observation_id) btree, reading every index entry of the
-- provenance on each query. Measured on 2 M rows in 10 provenances of one sky (200 k each):
-- 3.6 ms per deep-field point with the btree, 2.6 ms with the heap filter (453 heap pages),
-- 0.42 ms with this index (45 heap pages, as with a table holding that provenance alone).
-- The second column is an expression: (ARRAY[provenance_id]) with the built-in array_ops, so
-- no extension (btree_gin) is needed; a search for one provenance matches it with
-- ARRAY[provenance_id] @> ARRAY[id] and both conditions run in one GIN scan. Cost: one more
-- entry per row (measured +9 % of a bulk save's server time).
DROP INDEX l2image_cells_idx;
CREATE INDEX l2image_cells_idx ON l2image USING gin (cells, (ARRAY[provenance_id]))
    WITH (gin_pending_list_limit = 512);

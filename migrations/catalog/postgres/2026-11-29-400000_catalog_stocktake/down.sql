DROP TABLE stocktake_unknown_barcodes;
DROP TABLE stocktake_items;
DROP TABLE stocktake_locations;
DROP TABLE stocktakes;

DROP TABLE transits;

DROP TABLE staff_schools;

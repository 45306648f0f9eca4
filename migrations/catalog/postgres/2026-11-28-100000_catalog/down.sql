DROP TABLE copies;
DROP TABLE title_contributors;
DROP TABLE titles;

DROP TABLE marc_pool;

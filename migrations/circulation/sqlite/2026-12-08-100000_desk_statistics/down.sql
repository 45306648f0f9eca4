DROP INDEX holds_pickup_ready;
DROP TABLE loan_returns;

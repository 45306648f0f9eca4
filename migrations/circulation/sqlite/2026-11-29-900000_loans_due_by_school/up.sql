-- A school's overdue and due-soon lists read its open loans in due order.
CREATE INDEX loans_school_open_due ON loans (school_id, due_at, id) WHERE returned_at IS NULL;

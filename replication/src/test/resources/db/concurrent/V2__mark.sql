-- fails with a duplicate key if it ever runs twice
INSERT INTO concurrent_marks (id, note) VALUES (1, 'applied once');

-- slow on purpose: a second backend migrating at the same time must wait for this one's lock
DO SLEEP(1);
CREATE TABLE concurrent_marks (
  id INT NOT NULL PRIMARY KEY,
  note VARCHAR(50) NOT NULL
);

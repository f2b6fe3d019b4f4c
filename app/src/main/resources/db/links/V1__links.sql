-- Short links of the `links` app. Codes are case-sensitive (ascii_bin), so `abc` and `ABC` differ.
CREATE TABLE links (
  code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  url VARCHAR(2048) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL,
  clicks BIGINT NOT NULL DEFAULT 0
);

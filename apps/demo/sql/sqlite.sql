-- The demo schema for SQLite. Applied at startup through the driver (idempotent: IF NOT EXISTS);
-- mirrors prisma/models.prisma and src/typeorm/entities/. Timestamps are filled by the database.
CREATE TABLE IF NOT EXISTS "users" (
  "id"         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "email"      TEXT NOT NULL,
  "name"       TEXT NOT NULL,
  "bio"        TEXT NOT NULL DEFAULT '',
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "users_email_key" ON "users" ("email");

CREATE TABLE IF NOT EXISTS "posts" (
  "id"         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "title"      TEXT NOT NULL,
  "body"       TEXT NOT NULL,
  "published"  BOOLEAN NOT NULL DEFAULT true,
  "views"      INTEGER NOT NULL DEFAULT 0,
  "author_id"  INTEGER NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "posts_created_at_idx" ON "posts" ("created_at");

CREATE TABLE IF NOT EXISTS "comments" (
  "id"         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "body"       TEXT NOT NULL,
  "post_id"    INTEGER NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "author_id"  INTEGER NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "comments_post_id_idx" ON "comments" ("post_id");

CREATE TABLE IF NOT EXISTS "tags" (
  "id"   INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "name" TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS "tags_name_key" ON "tags" ("name");

-- Prisma's implicit many-to-many table for Post.tags / Tag.posts ("A" = post, "B" = tag).
CREATE TABLE IF NOT EXISTS "_post_tags" (
  "A" INTEGER NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "B" INTEGER NOT NULL REFERENCES "tags" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS "_post_tags_AB_unique" ON "_post_tags" ("A", "B");
CREATE INDEX IF NOT EXISTS "_post_tags_B_index" ON "_post_tags" ("B");

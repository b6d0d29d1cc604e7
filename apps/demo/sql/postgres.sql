-- The demo schema for PostgreSQL. Applied at startup through the driver (idempotent: IF NOT
-- EXISTS); mirrors prisma/models.prisma and src/typeorm/entities/. Timestamps are filled by the
-- database and carry their time zone, so both ORMs read the same instant whatever TZ the app has.
CREATE TABLE IF NOT EXISTS "users" (
  "id"         SERIAL PRIMARY KEY,
  "email"      TEXT NOT NULL,
  "name"       TEXT NOT NULL,
  "bio"        TEXT NOT NULL DEFAULT '',
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "users_email_key" ON "users" ("email");

CREATE TABLE IF NOT EXISTS "posts" (
  "id"         SERIAL PRIMARY KEY,
  "title"      TEXT NOT NULL,
  "body"       TEXT NOT NULL,
  "published"  BOOLEAN NOT NULL DEFAULT true,
  "views"      INTEGER NOT NULL DEFAULT 0,
  "author_id"  INTEGER NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "posts_created_at_idx" ON "posts" ("created_at");

CREATE TABLE IF NOT EXISTS "comments" (
  "id"         SERIAL PRIMARY KEY,
  "body"       TEXT NOT NULL,
  "post_id"    INTEGER NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "author_id"  INTEGER NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "comments_post_id_idx" ON "comments" ("post_id");

CREATE TABLE IF NOT EXISTS "tags" (
  "id"   SERIAL PRIMARY KEY,
  "name" TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS "tags_name_key" ON "tags" ("name");

-- Prisma's implicit many-to-many table for Post.tags / Tag.posts ("A" = post, "B" = tag).
CREATE TABLE IF NOT EXISTS "_post_tags" (
  "A" INTEGER NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "B" INTEGER NOT NULL REFERENCES "tags" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "_post_tags_AB_pkey" PRIMARY KEY ("A", "B")
);
CREATE INDEX IF NOT EXISTS "_post_tags_B_index" ON "_post_tags" ("B");

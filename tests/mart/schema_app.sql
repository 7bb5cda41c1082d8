-- The application database of rex.mart_demo as rex.deploy leaves it (deploy.md §7.1):
-- rex.job's `job`, rex.mart's `rexmart_inventory` and `job_rexmart_create`, and the
-- demo's `people`. Used by the mart tests until the real deploy is wired in.

CREATE TYPE "job_status_enum" AS ENUM ('new', 'queued', 'started', 'completed', 'failed');
CREATE SEQUENCE "job_seq";
CREATE TABLE "job" (
  "id" int4 NOT NULL DEFAULT nextval('"job_seq"'::regclass),
  "code" int8 NOT NULL,
  "owner" text NOT NULL,
  "title" text,
  "status" "job_status_enum" NOT NULL DEFAULT 'new',
  "status_detail" text,
  "type" text NOT NULL,
  "payload" jsonb NOT NULL DEFAULT '{}',
  "date_submitted" timestamp NOT NULL DEFAULT 'now'::text::timestamp,
  "date_started" timestamp,
  "date_completed" timestamp,
  CONSTRAINT "job_uk" UNIQUE ("id"),
  CONSTRAINT "job_pk" PRIMARY KEY ("code")
);
ALTER SEQUENCE "job_seq" OWNED BY "job"."id";
CREATE FUNCTION "job_pk"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."code" IS NULL THEN
    SELECT coalesce(max("code"), 0) + 1 INTO NEW."code" FROM "job";
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER "job_pk" BEFORE INSERT ON "job" FOR EACH ROW EXECUTE PROCEDURE "job_pk"();

CREATE TYPE "rexmart_inventory__status__enum" AS ENUM ('creation', 'deployment',
  'post_deployment', 'assessment', 'post_assessment', 'processing', 'complete');
CREATE SEQUENCE "rexmart_inventory__seq";
CREATE TABLE "rexmart_inventory" (
  "id" int4 NOT NULL DEFAULT nextval('"rexmart_inventory__seq"'::regclass),
  "code" int8 NOT NULL,
  "definition" text NOT NULL,
  "owner" text NOT NULL,
  "name" text NOT NULL,
  "status" "rexmart_inventory__status__enum" NOT NULL DEFAULT 'creation',
  "date_creation_started" timestamp NOT NULL,
  "date_creation_completed" timestamp,
  "size" int8,
  "pinned" bool NOT NULL DEFAULT FALSE,
  CONSTRAINT "rexmart_inventory__uk" UNIQUE ("id"),
  CONSTRAINT "rexmart_inventory__pk" PRIMARY KEY ("code")
);
ALTER SEQUENCE "rexmart_inventory__seq" OWNED BY "rexmart_inventory"."id";
CREATE FUNCTION "rexmart_inventory__pk"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."code" IS NULL THEN
    SELECT coalesce(max("code"), 0) + 1 INTO NEW."code" FROM "rexmart_inventory";
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER "rexmart_inventory__pk" BEFORE INSERT ON "rexmart_inventory"
  FOR EACH ROW EXECUTE PROCEDURE "rexmart_inventory__pk"();

CREATE SEQUENCE "job_rexmart_create__seq";
CREATE TABLE "job_rexmart_create" (
  "id" int4 NOT NULL DEFAULT nextval('"job_rexmart_create__seq"'::regclass),
  "job_id" int4 NOT NULL,
  "log" text,
  CONSTRAINT "job_rexmart_create__uk" UNIQUE ("id"),
  CONSTRAINT "job_rexmart_create__pk" PRIMARY KEY ("job_id"),
  CONSTRAINT "job_rexmart_create__job__fk" FOREIGN KEY ("job_id") REFERENCES "job" ("id") ON DELETE CASCADE
);
ALTER SEQUENCE "job_rexmart_create__seq" OWNED BY "job_rexmart_create"."id";

CREATE SEQUENCE "people_seq";
CREATE TABLE "people" (
  "id" int4 NOT NULL DEFAULT nextval('"people_seq"'::regclass),
  "code" int8 NOT NULL,
  "firstname" text NOT NULL,
  "lastname" text NOT NULL,
  CONSTRAINT "people_uk" UNIQUE ("id"),
  CONSTRAINT "people_pk" PRIMARY KEY ("code")
);
ALTER SEQUENCE "people_seq" OWNED BY "people"."id";
INSERT INTO "people" ("code", "firstname", "lastname") VALUES
  (1, 'John', 'Smith'), (2, 'Bob', 'Rogers'), (3, 'Tom', 'Brady'),
  (4, 'Mary', 'Cooper'), (5, 'Some', 'Body');

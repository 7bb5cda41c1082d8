-- Application database (deploy.md §7.1), written by hand until rex.deploy lands.
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
CREATE OR REPLACE FUNCTION "job_pk"() RETURNS "trigger" LANGUAGE plpgsql AS '
BEGIN
    IF NEW."code" IS NULL THEN
        DECLARE
            _offset int8;
        BEGIN
            SELECT max("code") INTO _offset
                FROM "job";
            NEW."code" := coalesce(_offset, 0) + 1;
        END;
    END IF;
    RETURN NEW;
END;
';
CREATE TRIGGER "job_pk" BEFORE INSERT ON "job" FOR EACH ROW EXECUTE PROCEDURE "job_pk"();
COMMENT ON CONSTRAINT "job_pk" ON "job" IS '---
generators:
- offset
';

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
CREATE OR REPLACE FUNCTION "rexmart_inventory__pk"() RETURNS "trigger" LANGUAGE plpgsql AS '
BEGIN
    IF NEW."code" IS NULL THEN
        DECLARE
            _offset int8;
        BEGIN
            SELECT max("code") INTO _offset
                FROM "rexmart_inventory";
            NEW."code" := coalesce(_offset, 0) + 1;
        END;
    END IF;
    RETURN NEW;
END;
';
CREATE TRIGGER "rexmart_inventory__pk" BEFORE INSERT ON "rexmart_inventory" FOR EACH ROW EXECUTE PROCEDURE "rexmart_inventory__pk"();

CREATE SEQUENCE "job_rexmart_create__seq";
CREATE TABLE "job_rexmart_create" (
  "id" int4 NOT NULL DEFAULT nextval('"job_rexmart_create__seq"'::regclass),
  "job_id" int4 NOT NULL,
  "log" text,
  CONSTRAINT "job_rexmart_create__uk" UNIQUE ("id"),
  CONSTRAINT "job_rexmart_create__pk" PRIMARY KEY ("job_id"),
  CONSTRAINT "job_rexmart_create__job__fk" FOREIGN KEY ("job_id") REFERENCES "job" ("id") ON DELETE CASCADE
);
CREATE INDEX "job_rexmart_create__job__fk" ON "job_rexmart_create" ("job_id");

CREATE SEQUENCE "people_seq";
CREATE TABLE "people" (
  "id" int4 NOT NULL DEFAULT nextval('"people_seq"'::regclass),
  "code" int8 NOT NULL,
  "firstname" text NOT NULL,
  "lastname" text NOT NULL,
  CONSTRAINT "people_uk" UNIQUE ("id"),
  CONSTRAINT "people_pk" PRIMARY KEY ("code")
);
INSERT INTO "people" ("code", "firstname", "lastname") VALUES
  (1, 'John', 'Smith'), (2, 'Bob', 'Rogers'), (3, 'Tom', 'Brady'),
  (4, 'Mary', 'Cooper'), (5, 'Some', 'Body');

-- RIOS-like tables for the mart.yaml selectors (a small stand-in, not deploy output).
CREATE SEQUENCE "subject_seq";
CREATE TABLE "subject" (
  "id" int4 NOT NULL DEFAULT nextval('"subject_seq"'::regclass),
  "uid" text NOT NULL,
  "mobile_tn" text,
  CONSTRAINT "subject_uk" UNIQUE ("id"),
  CONSTRAINT "subject_pk" PRIMARY KEY ("uid")
);
CREATE SEQUENCE "instrument_seq";
CREATE TABLE "instrument" (
  "id" int4 NOT NULL DEFAULT nextval('"instrument_seq"'::regclass),
  "uid" text NOT NULL,
  CONSTRAINT "instrument_uk" UNIQUE ("id"),
  CONSTRAINT "instrument_pk" PRIMARY KEY ("uid")
);
CREATE SEQUENCE "instrumentversion_seq";
CREATE TABLE "instrumentversion" (
  "id" int4 NOT NULL DEFAULT nextval('"instrumentversion_seq"'::regclass),
  "uid" text NOT NULL,
  "instrument_id" int4 NOT NULL REFERENCES "instrument" ("id"),
  CONSTRAINT "instrumentversion_uk" UNIQUE ("id"),
  CONSTRAINT "instrumentversion_pk" PRIMARY KEY ("uid")
);
CREATE SEQUENCE "assessment_seq";
CREATE TABLE "assessment" (
  "id" int4 NOT NULL DEFAULT nextval('"assessment_seq"'::regclass),
  "uid" text NOT NULL,
  "subject_id" int4 NOT NULL REFERENCES "subject" ("id"),
  "instrumentversion_id" int4 NOT NULL REFERENCES "instrumentversion" ("id"),
  "data" text NOT NULL,
  "evaluation_date" date,
  "calculation" jsonb,
  "age_at_evaluation" int8,
  CONSTRAINT "assessment_uk" UNIQUE ("id"),
  CONSTRAINT "assessment_pk" PRIMARY KEY ("uid")
);
INSERT INTO "subject" ("uid", "mobile_tn") VALUES ('s1', '555'), ('s2', NULL);
INSERT INTO "instrument" ("uid") VALUES ('mart1'), ('mart8');
INSERT INTO "instrumentversion" ("uid", "instrument_id") VALUES ('mart1.1', 1), ('mart8.1', 2);
INSERT INTO "assessment" ("uid", "subject_id", "instrumentversion_id", "data", "evaluation_date", "calculation", "age_at_evaluation") VALUES
  ('a1', 1, 1, '{}', '2020-01-02', '{"x": 1}', 30),
  ('a2', 2, 1, '{}', NULL, NULL, NULL),
  ('a3', 1, 2, '{"d": 2}', NULL, '{"y": [1, 2]}', 40);

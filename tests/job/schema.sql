-- The rex.job schema as rex.deploy lays it out (reference/deploy.md §7.1), plus the
-- facets the tests use: job_rexmart_create (rex.mart) and slow (rex.job_demo).
-- Used by the job tests until they switch to the real deploy.
CREATE TYPE "job_status_enum" AS ENUM ('new', 'queued', 'started', 'completed', 'failed');
CREATE SEQUENCE "job_seq";
CREATE TABLE "job" (
  "id"             int4 NOT NULL DEFAULT nextval('"job_seq"'::regclass),
  "code"           int8 NOT NULL,
  "owner"          text NOT NULL,
  "title"          text,
  "status"         "job_status_enum" NOT NULL DEFAULT 'new',
  "status_detail"  text,
  "type"           text NOT NULL,
  "payload"        jsonb NOT NULL DEFAULT '{}',
  "date_submitted" timestamp NOT NULL DEFAULT 'now'::text::timestamp,
  "date_started"   timestamp,
  "date_completed" timestamp,
  CONSTRAINT "job_uk" UNIQUE ("id"),
  CONSTRAINT "job_pk" PRIMARY KEY ("code")
);
ALTER SEQUENCE "job_seq" OWNED BY "job"."id";
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

CREATE SEQUENCE "slow_seq";
CREATE TABLE "slow" (
  "id" int4 NOT NULL DEFAULT nextval('"slow_seq"'::regclass),
  "job_id" int4 NOT NULL,
  "my_value" int8 NOT NULL,
  CONSTRAINT "slow_uk" UNIQUE ("id"),
  CONSTRAINT "slow_pk" PRIMARY KEY ("job_id"),
  CONSTRAINT "slow_job_fk" FOREIGN KEY ("job_id") REFERENCES "job" ("id") ON DELETE CASCADE
);

-- Mart database (deploy.md §7.2): simple_deploy.yaml, simple_subject.yaml, select_json.
CREATE SEQUENCE "foo_seq";
CREATE TABLE "foo" (
  "id" int4 NOT NULL DEFAULT nextval('"foo_seq"'::regclass),
  CONSTRAINT "foo_uk" UNIQUE ("id")
);
COMMENT ON TABLE "foo" IS '---
title: Foo Bars
';
ALTER TABLE "foo" ADD COLUMN "col1" "text" NOT NULL;
COMMENT ON COLUMN "foo"."col1" IS '---
title: The First Column
';
ALTER TABLE "foo" ADD CONSTRAINT "foo_pk" PRIMARY KEY ("col1"), CLUSTER ON "foo_pk";
CREATE TYPE "foo_col2_enum" AS ENUM ('foo', 'bar', 'baz');
ALTER TABLE "foo" ADD COLUMN "col2" "foo_col2_enum";

CREATE SEQUENCE "subject_seq";
CREATE TABLE "subject" (
  "id" int4 NOT NULL DEFAULT nextval('"subject_seq"'::regclass),
  "uid" text NOT NULL,
  "mobile_tn" text,
  CONSTRAINT "subject_uk" UNIQUE ("id"),
  CONSTRAINT "subject_pk" PRIMARY KEY ("uid")
);

CREATE SEQUENCE "driver_seq";
CREATE TABLE "driver" (
  "id" int4 NOT NULL DEFAULT nextval('"driver_seq"'::regclass),
  "assessment_uid" text NOT NULL,
  "a_json_field" jsonb NOT NULL,
  "a_fake_json_field" text NOT NULL,
  CONSTRAINT "driver_uk" UNIQUE ("id"),
  CONSTRAINT "driver_pk" PRIMARY KEY ("assessment_uid")
);

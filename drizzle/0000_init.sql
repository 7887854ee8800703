CREATE TABLE "setup_record" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"database_type" text NOT NULL,
	"app_version" text NOT NULL,
	"completed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "setup_record_single_row" CHECK ("setup_record"."id" = 1)
);
